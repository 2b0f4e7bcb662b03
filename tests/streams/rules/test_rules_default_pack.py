"""The shipped pack's triggers and gazetteer do what the desks were promised: a nuclear threat by a
named official is critical, a referendum in an occupied region high, a new sanctions package a
warning; every spelling of a place is one entity."""

from __future__ import annotations

import pytest

from streams.rules import compile_pack, load_pack


@pytest.fixture(scope="module")
def rules():
    return compile_pack(load_pack(None))


def triggers(rules, text, title=None):
    return [(t.id, t.severity) for t in rules.classify(text, title=title).triggers]


@pytest.mark.parametrize("text", [
    "Medvedev said Russia could use nuclear weapons against Kyiv.",
    "Медведев заявил, что Россия может применить ядерное оружие.",
    "Медвєдєв заявив, що Росія може застосувати ядерну зброю.",
])
def test_nuclear_threat_by_a_named_official_is_critical_in_each_language(rules, text):
    assert ("nuclear_threat_by_official", "critical") in triggers(rules, text)
    assert triggers(rules, text)[0][1] == "critical"


def test_nuclear_threat_without_a_named_official_is_not_critical(rules):
    fired = triggers(rules, "Analysts say the risk of a tactical nuclear strike remains low.")
    assert fired == [("escalation_without_named_official", "info")]


@pytest.mark.parametrize("text", [
    "Occupation officials will hold a referendum on joining Russia in Zaporozhye.",
    "В Запорожской области пройдёт референдум о вхождении в состав России.",
    "У Херсоні окупанти проводять так званий референдум.",
])
def test_referendum_in_an_occupied_region_is_high(rules, text):
    assert ("referendum_in_occupied_region", "high") in triggers(rules, text)


def test_referendum_elsewhere_raises_no_occupied_region_alert(rules):
    assert triggers(rules, "Ireland held a referendum on the constitution; turnout was high.") == []


@pytest.mark.parametrize("text", [
    "The EU agreed its 16th sanctions package on Monday.",
    "ЕС согласовал шестнадцатый пакет санкций.",
    "ЄС погодив шістнадцятий пакет санкцій.",
])
def test_new_sanctions_package_is_a_warning(rules, text):
    assert ("new_sanctions_package", "warning") in triggers(rules, text)


@pytest.mark.parametrize("spelling", ["Zaporizhzhia", "Zaporizhia", "Zaporozhye", "Запоріжжя", "Запорожье",
                                      "Запорожской", "Запорізької", "Запоріжжі"])
def test_every_spelling_of_zaporizhzhia_is_the_same_place(rules, spelling):
    result = rules.classify(f"Новости: {spelling}")
    assert [(e.id, e.type) for e in result.entities] == [("zaporizhzhia", "place")]


@pytest.mark.parametrize("text, entity", [
    ("Зеленський", "zelensky"), ("Zelenskyy", "zelensky"), ("Зеленского", "zelensky"),
    ("Путіна", "putin"), ("Путиным", "putin"), ("НАТО", "nato"), ("ОБСЄ", "osce"), ("ОБСЕ", "osce"),
    ("Большой семёрки", "g7"), ("Великої сімки", "g7"), ("ООН", "un"), ("Євросоюзу", "eu"),
    ("Евросоюзом", "eu"), ("Kharkov", "kharkiv"), ("Харкові", "kharkiv"), ("Києві", "kyiv"),
    ("Kiev", "kyiv"), ("Odessa", "odesa"), ("Миколаєві", "mykolaiv"), ("Луганщині", "luhansk"),
])
def test_gazetteer_resolves_inflections_and_transliterations(rules, text, entity):
    assert entity in [e.id for e in rules.classify(text).entities]


@pytest.mark.parametrize("text, entity", [
    ("Лавров выступил в Думе.", "state_duma"), ("Бюджет внесли в Думу.", "state_duma"),
    ("Бои у Красноармейска продолжаются.", "pokrovsk"), ("На покровському напрямку тихо.", "pokrovsk"),
    ("Нацбанком накладено штрафи.", "nbu"), ("Treasury Secretary Scott Bessent spoke.", "us_treasury"),
    ("He blamed the North Atlantic alliance.", "nato"), ("Ремонт на Запорізькій атомній станції.", "znpp"),
    ("Russia's Central Election Commission met.", "russian_cec"),
    # Ukrainian transliterations of the occupation heads, and a people standing for its state.
    ("Pushylin and Pasichnyk became acting heads.", "pushilin"), ("Pushylin and Pasichnyk became acting heads.", "pasechnik"),
    ("Saldo and Balytskyi were named acting governors.", "balitsky"), ("Almost 67 percent of Danes agreed.", "denmark"),
    ("Итальянцы провалили реформу.", "italy"), ("На Авдіївському напрямку тихо.", "avdiivka"),
    ("Slovenians voted down the water law.", "slovenia"), ("Вибухи пролунали в Джанкої.", "dzhankoi"),
    ("Девід Кемерон визнав поразку.", "cameron"), ("Уламки північнокорейської ракети дослідили.", "north_korea"),
    ("Monitors rotated at the Zaporozhye plant.", "znpp"), ("Люксембурзькі судді відхилили позов.", "luxembourg"),
    ("Baghdad, Ankara and Tehran shut the borders.", "iran"), ("Venezuelans endorsed all five questions.", "venezuela"),
    ("Рада Євросоюзу внесла ще 15 осіб до списку.", "council_of_the_eu"), ("УЄФА оштрафував віденську «Аустрію».", "vienna"),
    ("IAEA staff rotated at the Zaporizhzhya plant.", "znpp"), ("Greeks rejected the creditors' terms.", "greece"),
    ("Budapest finally said yes to Sweden.", "hungary"), ("Міністр Хаяші заявив, що Токіо не визнає анексії.", "hayashi"),
    ("Transnistrian residents crossed to vote.", "transnistria"),
    ("Latvians said no to Russian as a second language.", "latvia"), ("Lithuanians voted on dual citizenship.", "lithuania"),
    ("Only 40% of Poles took the ballot.", "poland"), ("New boss Gagloyev scrapped the decree.", "gagloev"),
    ("Officials in Trans-Dniester counted the votes.", "transnistria"),
    # Round 48 (dev112): the names a careful retelling puts in place of the name.
    ("The Atlantic alliance has entered a proxy war, Moscow's top diplomat said.", "nato"),
    ("Russia's lower house voted without a single abstention.", "state_duma"),
    ("Moscow's foreign ministry barred 63 Japanese from entry.", "russian_mfa"),
    ("The UN nuclear watchdog's chief reached the plant late.", "iaea"),
    ("Grossi reached the Zaporizhzhia power station.", "znpp"),
    ("Russia would have to hit first, the Security Council's deputy head said.", "russian_security_council"),
])
def test_gazetteer_knows_the_short_and_older_names_reporting_uses(rules, text, entity):
    assert entity in [e.id for e in rules.classify(text).entities]


@pytest.mark.parametrize("text", ["Я думаю, что это правда.", "Народна дума про козака."])
def test_the_duma_is_not_found_in_the_verb_to_think_or_a_folk_song(rules, text):
    assert "state_duma" not in [e.id for e in rules.classify(text).entities]


def themes(rules, text, lang="en"):
    return {h.theme for h in rules.classify(text, lang=lang).themes}


def terms_score(rules, text, lang, theme) -> float:
    """What the terms of ``theme`` reach in ``text`` (the model left out where ``rules`` has none)."""
    return rules.partial_theme(rules.analyse(text, lang), theme)[0]


def entity_names(rules, text, lang=None) -> set[str]:
    return {e.name for e in rules.classify(text, lang=lang).entities}


def concept_hit(rules, text: str, lang: str, concept: str) -> bool:
    """Whether ``text`` hits one of the pack's concepts (model features or not)."""
    a = rules.analyse(text, lang)
    return concept in {rules.tables.concept_names.get(pid) for pid in a.hits}


@pytest.mark.parametrize("text", [
    "EU leaders will decide on opening accession talks with Ukraine and Moldova at the December summit.",
    "Brussels will decide on the accession of Montenegro next year.",
    "The Kremlin said no to the American peace plan, Peskov told reporters on Tuesday.",
    "Hungary said yes to the peace plan after a call with the White House.",
    "There was no campaign of strikes on the capital this week, and no side wants independence talks to fail.",
])
def test_a_government_deciding_on_accession_or_refusing_a_peace_plan_is_not_a_referendum(rules, text):
    # The words of round six's vote concepts ("decide on joining", "the No camp", voters saying no to a
    # peace accord) belong to the people voting; said by a government they are ordinary diplomacy.
    assert "referendum" not in themes(rules, text)


@pytest.mark.parametrize("text", [
    "Colombians have narrowly said no to the peace accord with the FARC, a stinging defeat for Santos.",
    "Tskhinvali's election commission accepted 4,105 signatures demanding a ballot on union with Russia.",
    "Sinn Féin cannot trigger a vote on a united Ireland by topping a Stormont election.",
    "Под документами о вступлении в Россию подписались Пушилин, Пасечник, Балицкий и Сальдо.",
    "Over 400 Duma members backed the incorporation of Luhansk, Donetsk, Zaporizhia and Kherson into Russia.",
    "Swiss voters rejected the initiative, and the constitution stays as it is.",
    "Almost two thirds of Danes chose to drop the country's opt-out from EU defence policy.",
    "For a second time, Chileans refused to replace their Pinochet-era charter.",
    "Более 60% итальянцев отвергли конституционную реформу Ренци.",
    "Most New Zealanders ticked yes to the euthanasia law, while the cannabis proposal narrowly failed.",
    "Alaska's Ballot Measure 1 sets a $15 minimum wage by 2027.",
    "The No side edged it 50.2% to 49.8% on a turnout of 37%.",
])
def test_a_vote_on_joining_a_state_or_on_a_peace_accord_is_a_referendum_without_the_word(rules, text):
    lang = "ru" if any("а" <= ch <= "я" for ch in text.lower()) else "en"
    assert "referendum" in themes(rules, text, lang)


@pytest.mark.parametrize("text, lang, theme", [
    # A public vote in a contest or for an award is not a referendum.
    ("Итоги народного голосования в фотоконкурсе «Моя дача»: победила семья из Сонково.", "ru", "referendum"),
    ("Народне голосування за найкращу пісню конкурсу триватиме до неділі.", "uk", "referendum"),
    ("Readers can vote for the photo competition's winner until Sunday.", "en", "referendum"),
    # A treaty that bans a weapon or its tests is arms control, not a sanction.
    ("Путін каже, що рф дотримується договору про заборону ядерних випробувань, але США можуть його порушити.",
     "uk", "sanctions"),
    ("Moscow says it still honours the treaty banning nuclear tests, though the US may not.", "en", "sanctions"),
    # "Заходу" is the West and "заходить" is "goes in", though "заходів" are measures: all lemma захід.
    ("Медведєв знову пригрозив Заходу, а США, за його словами, бояться Росії.", "uk", "sanctions"),
    ("Пєсков каже, що НАТО заходить в Україну, а Росія з цим не миритиметься.", "uk", "sanctions"),
    # Sport bodies and disciplinary committees sanction clubs and certify races: the committee may
    # stand a few words from the sanction, as a bare "disciplinary" exclusion could not see.
    ("The disciplinary body imposed new sanctions against the club after fans threw flares.", "en", "sanctions"),
    ("USA Track and Field has sanctioned the city marathon as an Olympic qualifier.", "en", "sanctions"),
    ("КДК УАФ оголосив нові санкції: клуб заплатить 20 тис. грн за піротехніку.", "uk", "sanctions"),
    ("КДК РФС ввёл новые санкции против клуба за поведение болельщиков.", "ru", "sanctions"),
    # Quarantine restrictions and the fines for breaking them.
    ("Юристи пояснюють, чи є форс-мажором обмежувальні заходи, які уряд запровадив через коронавірус.",
     "uk", "sanctions"),
    ("Власти ввели новые ограничения из-за пандемии коронавируса, санкции за нарушения ужесточат.", "ru", "sanctions"),
    # Import bans for animal health.
    ("Мінагрополітики заборонило ввезення з РФ свинини через африканську чуму свиней.", "uk", "sanctions"),
    # ... the disease named at the end of a long sentence.
    ("Україна заборонила ввозити птицю з Росії та Казахстану, бо в тамтешніх господарствах виявили "
     "високопатогенний грип.", "uk", "sanctions"),
    # Neighbours keeping Ukraine's grain out protect their farmers: trade protection, not a sanction.
    ("Польща залишає ембарго: кордон для українського збіжжя не відкриють і після 15 вересня.", "uk", "sanctions"),
    ("Warsaw kept its embargo on Ukrainian grain, and Budapest extended its own ban.", "en", "sanctions"),
    # The world wars of history, and people voting for people or for a strike.
    ("The deal lost by 230 votes, the worst government defeat since the First World War.", "en", "escalation"),
    ("У другому турі президентських виборів 51% виборців підтримали Дуду, явка сягнула 68%.", "uk", "referendum"),
    ("Union members cast ballots, and 94% voted yes to a strike mandate.", "en", "referendum"),
    ("Second round: with 98% of polling stations counted, Sandu leads with 54% and turnout is above the "
     "first round's.", "en", "referendum"),
    # A company's incorporation is no accession, even when its shareholders back it.
    ("Tesla shareholders backed moving the company's incorporation to Texas.", "en", "referendum"),
    # "No side" without the article is no camp of a vote.
    ("No side wants the talks to fail, and turnout at the protest was high.", "en", "referendum"),
    # Round eleven (dev11): the Senate's "nuclear option", a brawl called WW3, a hockey player named
    # Соловей (not Solovyov), a bank or a bailiff blocking accounts, NATO accession, a union's pay ballot.
    ("Senate Republicans went nuclear: the nuclear option scrapped the 60-vote threshold for nominees.",
     "en", "escalation"),
    ("The nuclear option let senators end the filibuster on judicial nominees by a simple majority.", "en", "escalation"),
    ("Mass brawl at the derby: fans called it WW3 as the referee showed three red cards.", "en", "escalation"),
    ("Стычка Павла Соловья с соперником переросла в эскалацию: подрались все полевые.", "ru", "escalation"),
    ("Банк заблокував рахунок і кошти клієнта через підозрілі операції.", "uk", "sanctions"),
    ("Виконавець заблокував кошти й наклав арешт на рахунки боржника через борги перед кредиторами.",
     "uk", "sanctions"),
    ("Parliament backed Sweden's accession to NATO by 188 votes to 6.", "en", "referendum"),
    ("Investors who chase meme stocks are playing with fire, the columnist warns.", "en", "escalation"),
    # Round twelve (dev12): a union's pay ballot under the turnout rule, and freezes of prices and tariffs.
    ("The union's pay ballot returned 85% yes, but turnout of 41% fell short of the 50% needed for industrial "
     "action.", "en", "referendum"),
    ("Уряд заморозив тарифи на газ, тож рахунки для населення не зростуть.", "uk", "sanctions"),
    ("Правительство заморозило цены на бензин и тарифы по счетам ЖКХ.", "ru", "sanctions"),
    ("The union's members backed the pay offer: the ballot drew a 52% turnout and 74% voted to accept.",
     "en", "referendum"),
    # Round thirteen: a company's investors ratifying a pay grant, a union balloting members, a
    # presidential run-off between two candidates.
    ("About 72% of investors voted to ratify the chief executive's pay package at the annual meeting.",
     "en", "referendum"),
    ("As junior doctors are balloted again over walkouts, a member who opposes the strike can push the "
     "ballot over the threshold by voting no.", "en", "referendum"),
    ("У неділю поляки вдруге йдуть на дільниці, щоб обрати між двома кандидатами; виборці лівих підтримають "
     "ліберала.", "uk", "referendum"),
    # Criminal law: an article's "sanction" is its range of penalties, a sentence may add the
    # confiscation of property, and a court's preventive measure ("запобіжний захід") is not the West.
    ("Прокуратура повідомила про підозру колаборанту з Херсонщини; санкція статті передбачає до 12 років "
     "позбавлення волі з конфіскацією майна.", "uk", "sanctions"),
    ("Суд обрав запобіжний захід, санкція статті передбачає до 8 років ув'язнення з конфіскацією майна.",
     "uk", "sanctions"),
    ("Санкция статьи предусматривает до десяти лет лишения свободы с конфискацией имущества.", "ru", "sanctions"),
    ("Комбата взяли під варту; санкція ч. 3 ст. 368 КК — до 10 років з конфіскацією майна.", "uk", "sanctions"),
    ("Колишня директорка школи отримала 3 роки з 15-річною забороною обіймати посади, а двоє жителів — по 5 "
     "років із конфіскацією майна за російську символіку.", "uk", "sanctions"),
    # A bank blocking accounts over a payment that looks suspicious is financial monitoring.
    ("Банки почали блокувати рахунки українців через будь-яку операцію, що видається підозрілою.", "uk",
     "sanctions"),
    # Tankers near a sanctioning country are not sanctions by themselves: strikes closed a strait.
    ("Після ударів США по Ірану танкери не могли безпечно пройти Ормузьку протоку, і бензин подорожчав.",
     "uk", "sanctions"),
    # Round seventeen: a state's own bans on songs and books and on migrants who broke its rules, an app
    # barred on officials' phones, a news embargo, and an arms-control treaty's limits.
    # (Without the culture exclusion this one reaches the sanctions threshold on its terms.)
    ("Верховна Рада заборонила ввезення книжок із Росії та Білорусі, а також трансляцію пісень російських "
     "виконавців.", "uk", "sanctions"),
    ("Росія заборонила в'їзд іноземцям, які порушили міграційні правила, і депортувала їх.", "uk", "sanctions"),
    ("Британия запретила министрам TikTok на служебных смартфонах вслед за Еврокомиссией и США.", "ru",
     "sanctions"),
    ("Агентство наказало сотрудников, нарушивших эмбарго на новость о выходе доклада.", "ru", "sanctions"),
    ("После истечения договора у России и США больше нет ограничений по стратегическим ядерным силам.", "ru",
     "sanctions"),
    # Round eighteen: Avangard Omsk, a hockey club, is not the glide vehicle of the same name.
    # (Each of the two loses its expected theme without its own exclusion.)
    ("В Москве «Авангард» обыграл «Спартак» в матче с тремя удалениями.", "ru", "escalation"),
    ("Омский «Авангард» вышел в финал КХЛ, Москва ждёт решающих игр.", "ru", "escalation"),
    # ... and a neighbour's grain ban told with "restrictions" and "imports" sentences away from the grain.
    ("Польща не скасовує заборони на ввезення української пшениці та кукурудзи. У Мінсільгоспі пояснили, що "
     "квоти угоди стосуються імпорту до Євросоюзу загалом, а національні обмеження на ці культури лишаються "
     "чинними.", "uk", "sanctions"),
    # Round nineteen: an analyst weighing the risk is no state threatening (the model alone, under its
    # caution bar).
    ("CNA's Russia programme head Michael Kofman told the War on the Rocks podcast that a Russian nuclear shot "
     "in Ukraine remains improbable, even if the overall danger is the highest in nearly four decades.",
     "en", "escalation"),
])
def test_look_alikes_are_not_the_theme_they_resemble(rules, text, lang, theme):
    assert theme not in themes(rules, text, lang)


@pytest.mark.parametrize("text, lang, theme", [
    ("Народное голосование о вхождении Херсонской области в состав России прошло под дулами автоматов.",
     "ru", "referendum"),
    ("The EU ban on Russian crude imports took effect, and Washington extended its own ban on Russian oil.",
     "en", "sanctions"),
    ("ЄС схвалив нові обмежувальні заходи проти Росії, а США запровадили власні заходи проти російських банків.",
     "uk", "sanctions"),
    ("ЄС запровадив ембарго на російську нафту з 5 грудня.", "uk", "sanctions"),
    # ... and round eleven's: a vote void below its quorum, senators' nuclear threats, Solovyov's,
    # and a loss the passage puts down to sanctions.
    ("Turnout was 30%, far below the quorum, so the popular vote on citizenship is void.", "en", "referendum"),
    ("The No camp prevailed on Sunday, and the Yes side conceded before midnight.", "en", "referendum"),
    ("Not one of the 26 cantons backed the initiative on how judges are picked.", "en", "referendum"),
    ("Oxi! Greeks said no to the creditors' terms.", "en", "referendum"),
    ("In a consultative vote, Lombardy and Veneto backed talks with Rome on more autonomy.", "en", "referendum"),
    ("Russian senators warned Kyiv that nuclear weapons could be used if the strikes go on.", "en", "escalation"),
    ("Соловьёв в эфире пригрозил ядерным ударом по Лондону.", "ru", "escalation"),
    ("Доходы бюджета упали из-за санкций и скидки на Urals.", "ru", "sanctions"),
    ("В МИД России назвали идею закрыть границу с Калининградом игрой с огнём.", "ru", "escalation"),
    ("У МЗС Росії назвали ідею закрити кордон із Калінінградом грою з вогнем.", "uk", "escalation"),
    ("Британія запровадила обмеження проти 20 танкерів тіньового флоту Росії.", "uk", "sanctions"),
    ("Захід запровадив санкції проти російських банків.", "uk", "sanctions"),
    ("Суд заочно засудив експосадовця, який обходив санкції РНБО, а його активи стягнуто в дохід держави.",
     "uk", "sanctions"),
    # Round seventeen: oligarchs' yachts seized ("яхт*" is an asset word now), and another batch of
    # restrictive measures promised (carried by the older terms since that round's own term was taken back).
    ("Влада Італії арештувала яхти двох російських олігархів.", "uk", "sanctions"),
    ("Брюссель пообещал ответить на аннексию очередными ограничительными мерами.", "ru", "sanctions"),
    # Entry bans on the officials who deport Ukrainian children, and an export ban on smartphones: the
    # migration and the officials'-phones exclusions spare them.
    ("Канада заборонила в'їзд 15 російським посадовцям, причетним до депортації українських дітей.", "uk",
     "sanctions"),
    ("США запретили продажу России смартфонов и другой электроники двойного назначения.", "ru", "sanctions"),
    # The ships that carry Russia's stolen Ukrainian grain, and their captains, are listed: both grain
    # exclusions (on measures and on bans) spare them. Each passage is lost when its exclusion's NOT goes.
    ("ЄС запровадив обмеження проти суден, що вивозять крадене українське зерно з Криму.", "uk", "sanctions"),
    ("Великобританія заборонила в'їзд капітанам суден, що вивозили вкрадене українське зерно з Криму.", "uk",
     "sanctions"),
])
def test_the_themes_themselves_survive_those_exclusions(rules, text, lang, theme):
    assert theme in themes(rules, text, lang)


@pytest.fixture(scope="module")
def terms_only():
    return compile_pack(load_pack(None).model_copy(update={"model": None}))


@pytest.mark.parametrize("text, lang", [
    ("ЄС відключив сьогодні ще п'ять великих російських банків від SWIFT.", "uk"),
    # Five to eight words apart: the window's width before round seventeen (4) misses it.
    ("Gazprombank was cut off this week, along with four smaller lenders, from SWIFT.", "en"),
])
def test_a_bank_cut_off_from_swift_a_few_words_apart_carries_sanctions_on_the_terms(terms_only, text, lang):
    assert "sanctions" in themes(terms_only, text, lang)


def test_a_name_is_not_swift_cut_off_by_the_widened_window(terms_only):
    text = "Taylor Swift said fans who bought resale tickets would be excluded from the stadium."
    assert "sanctions" not in themes(terms_only, text, "en")


def test_a_shortage_of_spare_parts_put_down_to_restrictions_carries_sanctions_on_the_terms(terms_only):
    text = "Російські авіакомпанії дедалі частіше скасовують рейси: через обмеження Заходу їм бракує запчастин."
    assert "sanctions" in themes(terms_only, text, "uk")


@pytest.mark.parametrize("text, lang", [
    ("Voters cast their ballots in the referendum on independence on Sunday.", "en"),
    ("Casting his ballot in the plebiscite, the president said the vote would settle the matter.", "en"),
    ("Жители сделали свой выбор на референдуме о новой конституции.", "ru"),
    ("Виборці Швейцарії на референдумі підтримали нову ініціативу.", "uk"),
])
def test_a_ballot_a_choice_or_voters_do_not_veto_the_referendum_they_are_at(terms_only, text, lang):
    # Exclusions once read "balloted" (a union word) as its lemma "ballot", "выбор*" (elections) as
    # "choice" and "вибор*" as "voters": each vetoed the referendum terms beside it.
    assert "referendum" in {h.theme for h in terms_only.classify(text, lang=lang).themes}


@pytest.mark.parametrize("text, lang", [
    ("'Whether in the form of elections or a referendum, the Ukrainian people must have a say,' he said.", "en"),
    ("Ordinary Ukrainians must have the final word, whether through elections or a plebiscite.", "en"),
    ("Судьбу спорных территорий могут определить сами украинцы — через плебисцит или выборы.", "ru"),
    ("На Херсонщине пройдёт референдум о вхождении в РФ, потом — выборы.", "ru"),
    ("Зеленський заявив, що мирну угоду можуть винести на всеукраїнське голосування або вибори.", "uk"),
    ("Ни выборы, ни общенародное голосование невозможны без прекращения огня.", "ru"),
])
def test_a_popular_vote_named_beside_elections_is_still_a_referendum(terms_only, text, lang):
    # The exclusion of elections vetoes only the words any vote shares (ballot, voting, голосование),
    # not the popular vote's own name beside them, even where that name holds one of those words
    # ("всеукраїнське голосування": the exclusion's NOT "@popular_vote_name").
    assert "referendum" in {h.theme for h in terms_only.classify(text, lang=lang).themes}


@pytest.mark.parametrize("text, lang", [
    ("Voters cast their ballots in the presidential election, and turnout was 61%.", "en"),
    ("Голосование на выборах в заксобрание Запорожской области продлится три дня.", "ru"),
])
def test_voting_in_an_election_is_still_vetoed_for_the_terms(terms_only, text, lang):
    assert "referendum" not in {h.theme for h in terms_only.classify(text, lang=lang).themes}


@pytest.mark.parametrize("text, lang", [
    ("«Единая Россия» принимает заявки на предварительное голосование в ДНР до 27 апреля.", "ru"),
    ("Окупанти оголосили попереднє голосування «Єдиної Росії» на Херсонщині.", "uk"),
    ("Выборы в Запорожской области пройдут в единый день голосования 10 сентября.", "ru"),
    ("Many shareholders treated the ballot as a referendum on the chief executive's pay.", "en"),
    ("The midterms are being read as a plebiscite on the president's first two years.", "en"),
])
def test_primaries_the_single_voting_day_and_a_vote_read_as_a_referendum_on_a_leader_are_vetoed(
        terms_only, text, lang):
    analysis = terms_only.analyse(text, lang)
    assert any(terms_only.tables.terms[ti].theme == terms_only.theme_index("referendum")
               for ti in analysis.term_vetoed)
    assert "referendum" not in {h.theme for h in terms_only.classify(text, lang=lang).themes}


@pytest.mark.parametrize("text, lang", [
    ("Polling stations across Hungary shut at 7pm with turnout at 67.8 percent.", "en"),
    ("Голосование продлится три дня, явка к полудню превысила 20%.", "ru"),
    ("Голосування на дільницях триває, явка вже перевищила 30%.", "uk"),
])
def test_two_words_of_any_votes_process_are_not_a_referendum_alone(terms_only, text, lang):
    # Ballots, turnout, polling stations and "голосование" describe elections as well: together they
    # count once, as one sign of a vote.
    analysis = terms_only.analyse(text, lang)
    assert analysis.scores.get(terms_only.theme_index("referendum")) == 1
    assert "referendum" not in {h.theme for h in terms_only.classify(text, lang=lang).themes}


@pytest.mark.parametrize("text, lang", [
    ("Turnout in the Zaporizhzhia region vote reached 66%, the occupation authorities said.", "en"),
    ("Явка на голосовании в Херсонской области превысила 60%.", "ru"),
])
def test_a_word_of_the_votes_process_with_a_sign_of_a_popular_vote_is_a_referendum(terms_only, text, lang):
    assert "referendum" in {h.theme for h in terms_only.classify(text, lang=lang).themes}


@pytest.mark.parametrize("text, lang", [
    ("Посли ЄС вперше сіли за 19-й пакет — і Словаччина одразу сказала «ні».", "uk"),
    ("Венгрия снова грозит заблокировать 20-й пакет Евросоюза до саммита.", "ru"),
    ("Фіцо пообіцяв, що Братислава не підтримає 18-го пакета ЄС.", "uk"),
])
def test_a_numbered_package_beside_who_imposes_it_carries_sanctions_without_the_word(terms_only, text, lang):
    assert "sanctions" in themes(terms_only, text, lang)


@pytest.mark.parametrize("text, lang", [
    # An aid package is numbered too, ...
    ("США оголосили 60-й пакет військової допомоги Україні на 400 мільйонів доларів.", "uk"),
    ("Вашингтон объявил 55-й пакет военной помощи Киеву.", "ru"),
    # ... and "й" alone is the Ukrainian "and": only a number makes the package a numbered one.
    ("Кабмін ухвалив бюджет й пакет законопроєктів, ЄС привітав рішення.", "uk"),
])
def test_an_aid_package_or_a_package_after_and_is_not_a_numbered_sanctions_package(terms_only, text, lang):
    assert "sanctions" not in themes(terms_only, text, lang)


@pytest.mark.parametrize("text, lang", [
    # dev23: the occupiers' vote by its slang name, a popular vote named "constitutional" beside a first
    # round (which the exclusion of elections spares), a vote abroad called a "consultative" poll, and a
    # vote on entering Russia.
    ("Окупанти на Харківщині призначили свій «рефік» на 20 жовтня, бюджетників зганяють під запис.", "uk"),
    ("Для Кишинева важливіший не перший тур президентських перегонів, а одночасне конституційне голосування "
     "щодо курсу на ЄС.", "uk"),
    ("Молдова готується до конституційного голосування 20 жовтня.", "uk"),
    ("Мадуро кличе венесуельців на консультативне опитування щодо Есекібо.", "uk"),
    ("Власти Венесуэлы проведут консультативный опрос об Эссекибо.", "ru"),
    ("У Кремлі зважують онлайн-голосування про входження до Росії окупованих земель.", "uk"),
])
def test_a_popular_vote_by_its_slang_constitutional_or_consultative_name_carries_referendum_on_the_terms(
        terms_only, text, lang):
    assert "referendum" in themes(terms_only, text, lang)


@pytest.mark.parametrize("text, lang, theme", [
    # dev23: a vote that fills the Duma or a local council in the occupied regions is an election ...
    ("Окупаційна виборча комісія Херсонщини заявила про 58% явки в перший день основного голосування до "
     "так званої обласної думи.", "uk", "referendum"),
    ("В окупованому Маріуполі «волевиявлення» до так званих місцевих рад влаштували просто на капотах автівок.",
     "uk", "referendum"),
    # ... a poll's share for joining the EU is no vote on joining ...
    ("Соціологи зафіксували рекорд: за приєднання до ЄС висловилися 86% респондентів.", "uk", "referendum"),
    # ... and a veto that blocks a draft resolution blocks no assets.
    ("Москва заблокувала в Радбезі ООН проєкт США про виведення російських військ.", "uk", "sanctions"),
])
def test_elections_to_a_body_polls_and_vetoed_drafts_are_not_the_theme_they_resemble(terms_only, text, lang, theme):
    assert theme not in themes(terms_only, text, lang)


@pytest.mark.parametrize("text, lang, theme", [
    # dev25: the annexation of Crimea by its propaganda name and by its anniversary ...
    ("В Симферополе отметили очередную годовщину «Крымской весны» концертом на площади.", "ru", "referendum"),
    ("Окупанти влаштували в Ялті святкування «кримської весни» з прапорами.", "uk", "referendum"),
    ("К годовщине возвращения Крыма в Севастополе открыли новую выставку.", "ru", "referendum"),
    ("Аксенов снова говорил о том, что Крым вернулся «в родную гавань».", "ru", "referendum"),
    # ... a constitution or a ceasefire plan put to the judgement of the people ...
    ("Лукашенко сказал, что проект Основного закона допишут до осени и затем отдадут на суд граждан.",
     "ru", "referendum"),
    ("Киев готов вынести американский план прекращения огня на суд украинцев.", "ru", "referendum"),
    # ... a yes-or-no question about entering Russia ...
    ("Вопрос о вхождении области в Российскую Федерацию напечатан на двух языках, ответить можно лишь "
     "«да» или «нет».", "ru", "referendum"),
    # ... and the States extending their blacklist.
    ("Штаты расширили черный список ещё на десять компаний из России.", "ru", "sanctions"),
])
def test_annexation_anniversaries_questions_put_to_the_people_and_the_states_blacklist_carry_their_theme(
        terms_only, text, lang, theme):
    assert theme in themes(terms_only, text, lang)


@pytest.mark.parametrize("text, lang, theme", [
    # dev25: a UN vote on a resolution that concerns no annexation ...
    ("В голосовании по резолюции Генассамблеи ООН о компенсации ущерба Молдова проголосовала «за».",
     "ru", "referendum"),
    # ... a presidential result listed by region, "the so-called new regions" among them ...
    ("По итогам подсчета у кандидата от власти 88% голосов, больше всего в так называемых новых регионах.",
     "ru", "referendum"),
    # ... and "an escalation of terror", Kyiv's word for the attacks, not a state's threat.
    ("Після удару по Одесі речник МЗС назвав це жорсткою ескалацією терору з боку Москви.", "uk", "escalation"),
])
def test_un_resolution_votes_election_results_by_region_and_an_escalation_of_terror_are_not_the_theme(
        terms_only, text, lang, theme):
    assert theme not in themes(terms_only, text, lang)


@pytest.mark.parametrize("text, lang, theme", [
    # dev26: a popular vote's own name beside a poll or beside elections is still a referendum ...
    ("Порошенко пообіцяв винести членство в НАТО на всенародне голосування, хоча опитування показують розкол.",
     "uk", "referendum"),
    ("Законопроєкт про вибори і всенародне затвердження мирної угоди внесуть до Ради; обидва голосування "
     "проведуть разом.", "uk", "referendum"),
    # ... so is a vote on a state of one's own, or on writing EU membership into a constitution ...
    ("Каталонці на голосуванні вирішуватимуть, чи хочуть власної держави.", "uk", "referendum"),
    ("Молдовани в неділю голосуватимуть щодо членства в ЄС.", "uk", "referendum"),
    # ... and "American restrictions", or Russia's list of "unfriendly countries", are sanctions.
    ("Американские ограничения задели Мосбиржу, и торги долларом остановили.", "ru", "sanctions"),
    ("Компании из недружественных стран платят взнос за выход из России.", "ru", "sanctions"),
    ("Компанії з недружніх країн мусять продавати російські активи з дисконтом.", "uk", "sanctions"),
])
def test_popular_votes_beside_polls_or_elections_and_sanctions_told_as_restrictions_carry_their_theme(
        terms_only, text, lang, theme):
    assert theme in themes(terms_only, text, lang)


def test_a_pseudo_vote_that_names_elections_of_people_is_not_a_referendum(terms_only):
    text = "Кремль провів псевдоголосування: так звані вибори до місцевих рад на окупованих територіях."
    assert "referendum" not in themes(terms_only, text, "uk")


@pytest.mark.parametrize("text, lang", [
    # dev27: a court's authorisation of an arrest in absentia or of a search ...
    ("Мещанский суд Москвы выдал санкцию на заочный арест бывшего депутата.", "ru"),
    ("Суд дав санкцію на обшук у квартирі російського бізнесмена.", "uk"),
    # ... and the sport court's or an anti-doping agency's sanctions are no restrictive measures.
    ("Спортивний арбітражний суд залишив у силі санкції проти російського біатлоніста.", "uk"),
    ("РУСАДА применило санкции к российскому тренеру после проверки.", "ru"),
])
def test_a_courts_authorisation_and_sport_courts_sanctions_are_not_the_sanctions_theme(terms_only, text, lang):
    assert "sanctions" not in themes(terms_only, text, lang)


def test_a_regulator_blocking_an_app_at_home_raises_the_models_bar_for_sanctions(rules):
    a = rules.analyse("Роскомнадзор ввёл ограничительные меры против Telegram.", "ru")
    assert rules.theme_index("sanctions") in a.cautioned


@pytest.mark.parametrize("text", [
    # dev28: forecasts and assessments of the risk of nuclear use weigh a threat, they make none ...
    "Forecasters now put the odds of a nuclear strike on Europe this year at well under one percent.",
    "Розвідка не бачить ознак того, що ймовірність застосування ядерної зброї зросла.",
    # ... so do arms-control treaties and counts of warheads ...
    "When New START lapses, nothing will cap the deployed nuclear warheads of Washington and Moscow.",
    "Україна відмовилася від ядерного арсеналу за Будапештським меморандумом 1994 року.",
    # ... and exercises a passage calls routine.
    "NATO's yearly nuclear deterrence exercise began on Monday with sixty aircraft taking part.",
])
def test_risk_estimates_arms_control_and_routine_drills_are_not_escalation(terms_only, text):
    assert "escalation" not in themes(terms_only, text, "uk" if "ї" in text or "я" in text else "en")


@pytest.mark.parametrize("text, lang", [
    # ... but an official's threat told as a probability or a scenario is still a threat.
    ("Medvedev warned that Russia would use nuclear weapons in the scenario of an attack on Crimea.", "en"),
    ("Медведев пригрозил: при таком сценарии Россия применит ядерное оружие.", "ru"),
    ("Peskov said the probability of a nuclear war grows with every Western missile sent to Kyiv.", "en"),
])
def test_a_threat_told_as_a_probability_or_a_scenario_is_still_escalation(terms_only, text, lang):
    assert "escalation" in themes(terms_only, text, lang)


@pytest.mark.parametrize("text, lang", [
    # dev28: a nuclear word alone, and NATO beside a strike word, are half a term each: history and
    # war games use them without a threat.
    ("Історик розповів про радянські ядерні боєголовки та мобілізацію 1941 року.", "uk"),
    ("Simulation: a NATO logistics hub in Poland is hit, and planners discuss how the alliance would respond.", "en"),
])
def test_a_nuclear_word_or_nato_beside_a_strike_word_alone_is_not_escalation(terms_only, text, lang):
    assert "escalation" not in themes(terms_only, text, lang)


def test_the_new_start_treaty_by_its_russian_abbreviation_is_arms_control_not_escalation(terms_only):
    # dev30: "ДСНВ" is one word, which "снв" in the arms-control concept does not match.
    text = "ДСНВ был последним договором, который ограничивал ядерные арсеналы России и США."
    assert "escalation" not in themes(terms_only, text, "ru")


@pytest.mark.parametrize("text, lang", [
    # dev30: "warned" in Russian and Ukrainian has a second verb beside "предупредил" / "попередив".
    ("Нарышкин предостерег Варшаву от ядерной авантюры.", "ru"),
    ("Лавров застеріг Лондон від ядерної авантюри.", "uk"),
])
def test_a_nuclear_answer_a_minister_warned_of_with_the_second_verb_for_warning_is_escalation(terms_only, text, lang):
    assert "escalation" in themes(terms_only, text, lang)


@pytest.mark.parametrize("text, lang, entity", [
    # dev30: the peoples stand for their states in threats ("nothing would be left of the Estonians").
    ("Markov said Latvians and Estonians should fear a big war.", "en", "estonia"),
    ("Лукашенко посоветовал полякам не лезть на запад Украины.", "ru", "poland"),
    ("Депутат пригрозил латышам и литовцам.", "ru", "latvia"),
    ("Депутат пригрозил латышам и литовцам.", "ru", "lithuania"),
    ("Ми не дамо фінам забути про війну, сказав депутат.", "uk", "finland"),
    ("Лавров связал риски с призывами ввести натовские войска.", "ru", "nato"),
])
def test_the_peoples_and_natos_adjective_name_their_state_or_alliance(rules, text, lang, entity):
    assert entity in [e.id for e in rules.classify(text, lang=lang).entities]


@pytest.mark.parametrize("text, lang", [
    # dev31: an official denying any need or plan to use nuclear weapons says the threat's own words.
    ("Shoigu said Russia has no need to use nuclear weapons in Ukraine.", "en"),
    ("Шойгу заявил, что применять ядерное оружие на Украине незачем.", "ru"),
    ("Шойгу заявив, що Росія не планує застосовувати ядерну зброю в Україні, бо в цьому немає потреби.", "uk"),
])
def test_an_official_denying_any_need_or_plan_to_use_nuclear_weapons_is_not_escalation(terms_only, text, lang):
    assert "escalation" not in themes(terms_only, text, lang)


@pytest.mark.parametrize("text, lang", [
    # ... but a threat that begins by saying nobody wants a war is still a threat.
    ("Medvedev: nobody wants a nuclear war, but if NATO troops enter Ukraine we will strike them with everything "
     "we have.", "en"),
    ("Никто не хочет ядерной войны, но если ракеты полетят на Крым, ответ будет ядерным, пригрозил Медведев.", "ru"),
])
def test_a_threat_that_opens_with_nobody_wanting_war_is_still_escalation(terms_only, text, lang):
    assert "escalation" in themes(terms_only, text, lang)


@pytest.mark.parametrize("text, lang, entity, not_entity", [
    # A bare "Совбез" / "Радбез" is Russia's Security Council; the UN's is named with "ООН" (one entity now,
    # where two entries shared the name "Security Council of Russia").
    ("Зампред Совбеза Дмитрий Медведев пригрозил Киеву.", "ru", "russian_security_council", "un_security_council"),
    ("Секретар Радбезу Микола Патрушев прилетів до Калінінграда.", "uk", "russian_security_council",
     "un_security_council"),
    ("Совбез ООН собрался на экстренное заседание.", "ru", "un_security_council", None),
    ("Security Council deputy chairman Dmitry Medvedev wrote on Telegram.", "en", "russian_security_council", None),
])
def test_a_bare_security_council_in_russian_or_ukrainian_is_russias(rules, text, lang, entity, not_entity):
    found = [e.id for e in rules.classify(text, lang=lang).entities]
    assert entity in found and (not_entity is None or not_entity not in found)


@pytest.mark.parametrize("text, lang", [
    # dev32: "retribution" is the English twin of "возмездие", which counts as a sign of the theme.
    ("Zakharova said Russia kept the right to exact harsh retribution.", "en"),
    ("Захарова заявила, что Россия оставляет за собой право на возмездие.", "ru"),
])
def test_retribution_promised_by_an_official_counts_towards_escalation_in_english_as_in_russian(terms_only, text,
                                                                                                  lang):
    score, words = terms_only.partial_theme(terms_only.analyse(text, lang), "escalation")
    assert score >= 1 and any(w.lower().startswith(("retribution", "возмезди")) for w in words)


@pytest.mark.parametrize("text, lang", [
    # dev33: "lawful" and "target" have second words ("правомерных мишеней", "правомірними цілями").
    ("Любые такие объекты попадут в разряд правомерных мишеней для российской армии.", "ru"),
    ("Захарова назвала британських інструкторів правомірними цілями.", "uk"),
])
def test_objects_declared_lawful_targets_in_other_words_are_escalation(terms_only, text, lang):
    assert "escalation" in themes(terms_only, text, lang)


@pytest.mark.parametrize("text, lang, theme", [
    # dev33: farmers blockading the border's crossings, beside state money, freeze nothing.
    ("Туск пообіцяв державні кошти, а фермери й далі блокують пункти пропуску на кордоні.", "uk", "sanctions"),
    # A player suspended by tennis's integrity agency, named a sentence after the word "санкції".
    ("Ще один росіянин «під санкціями» з грудня, але не тими, що ви подумали: ITIA підтвердило "
     "дискваліфікацію тенісиста.", "uk", "sanctions"),
    # A parliament ratifying a state's accession to NATO, and vote-buying in an election of people.
    ("Every deputy present in the Turkish assembly voted to ratify Finland's accession protocol, the last of the "
     "alliance's members to sign off.", "en", "referendum"),
    ("Sandu won the runoff and said Moldova withstood dirty money and illegal vote-buying.", "en", "referendum"),
])
def test_border_blockades_tennis_bans_nato_accession_and_vote_buying_are_not_the_theme_they_look_like(
        terms_only, text, lang, theme):
    assert theme not in themes(terms_only, text, lang)


def test_a_gambling_regulator_blocking_casino_sites_raises_the_models_bar_for_sanctions(rules):
    # dev33: PlayCity's register of blocked casino sites is the state's own regulation, no sanction.
    a = rules.analyse("PlayCity позначило російське казино як заблоковане рішенням агентства.", "uk")
    assert rules.theme_index("sanctions") in a.cautioned


@pytest.mark.parametrize("text, lang", [
    # dev33: "personal restrictions" is Ukrainian and Russian law's own name for sanctions on people.
    ("РНБО обговорила, як зробити, щоб персональні обмеження Києва діяли й за кордоном.", "uk"),
    ("Персональные ограничения Киева коснулись ещё двадцати человек.", "ru"),
])
def test_personal_restrictions_the_laws_name_for_sanctions_are_sanctions(terms_only, text, lang):
    assert "sanctions" in themes(terms_only, text, lang)


@pytest.mark.parametrize("text, lang", [
    # dev34: war aims that widen the war inside Ukraine are escalation too.
    ("Константинов предложил расширить географию СВО до Николаева и Одессы.", "ru"),
    ("Пушилин: пора снова освобождать русские города — Киев, Чернигов, Одессу.", "ru"),
    ("Депутат закликав розширити географію СВО на всю Україну.", "uk"),
])
def test_war_aims_that_widen_the_war_inside_ukraine_are_escalation(terms_only, text, lang):
    assert "escalation" in themes(terms_only, text, lang)


def test_a_corridor_blocked_by_troops_freezes_nothing(terms_only):
    # dev34: "заблокирует Сувалкский коридор" is a blockade, not a freeze of Russian assets.
    assert "sanctions" not in themes(terms_only, "Если Россия заблокирует Сувалкский коридор, НАТО примет меры "
                                                "против России, пообещал Рютте.", "ru")


@pytest.mark.parametrize("text, lang, found", [
    # dev35: "Крим*" also spelled the start of "кримінальний" (criminal), so every Ukrainian criminal case
    # named Crimea and counted as an occupied region.
    ("Кримінальне провадження відкрито за статтею про шахрайство.", "uk", False),
    ("Окупанти провели псевдоголосування у Криму.", "uk", True),
    ("Кримчани голосували під дулами автоматів.", "uk", True),
    ("Кримськотатарський Меджліс закликав бойкотувати так званий референдум.", "uk", True),
])
def test_crimea_is_named_by_its_own_words_not_by_the_ukrainian_word_for_criminal(rules, text, lang, found):
    assert ("crimea" in [e.id for e in rules.classify(text, lang=lang).entities]) is found


@pytest.mark.parametrize("text, lang", [
    # dev35: secondary sanctions told as "measures".
    ("Secondary measures are coming, Trump said.", "en"),
    ("Вашингтон пригрозил вторичными мерами.", "ru"),
    ("США погрожують вторинними заходами.", "uk"),
])
def test_secondary_measures_are_secondary_sanctions(terms_only, text, lang):
    assert "sanctions" in themes(terms_only, text, lang)


@pytest.mark.parametrize("text, lang, theme", [
    # dev35: a code's article's penalty, Indian English "sanctioned" (granted), martial law and
    # mobilisation extended once more, a statute ratified by a parliament.
    ("Мировой судья оштрафовал Google: по части 5 статьи 13.41 КоАП такая санкция считается от выручки "
     "российской дочки.", "ru", "sanctions"),
    ("A further eight road works worth Rs 908 crore were sanctioned under the Central Road Fund.", "en", "sanctions"),
    ("Парламент у 17-й раз подовжив воєнний стан і загальну мобілізацію.", "uk", "escalation"),
    ("Верховна Рада ратифікувала Римський статут, «за» проголосував 281 депутат.", "uk", "referendum"),
])
def test_code_penalties_granted_rupees_extended_mobilisation_and_ratified_statutes_are_not_their_look_alikes(
        terms_only, text, lang, theme):
    # Not one point for the theme: each word that looked like it is vetoed (the model decides the rest).
    assert terms_score(terms_only, text, lang, theme) == 0


def test_streets_closed_to_traffic_raise_the_models_bar_for_sanctions(rules):
    # dev35: "снятия ограничений" on a closed street is no lifting of sanctions.
    a = rules.analyse("Дептранс Москвы закрыл проезд по Тверской, сроков снятия ограничений не назвали.", "ru")
    assert rules.theme_index("sanctions") in a.cautioned


@pytest.mark.parametrize("text", [
    # dev36: an election called a referendum on the government as a figure of speech, and union
    # members ratifying their contracts, are no popular vote.
    "Argentines went to the polls in a midterm vote many called a litmus test, in effect a referendum, on Milei's "
    "reforms; turnout was 68%.",
    "Voters tend to turn by-elections into plebiscites on one question: whether the government deserves a kick.",
    "Members at Ford, GM and Stellantis have ratified their new contracts, 64% voting yes across the three companies.",
])
def test_referendums_as_a_figure_of_speech_and_ratified_labour_contracts_are_not_referendums(terms_only, text):
    assert "referendum" not in themes(terms_only, text, "en")


@pytest.mark.parametrize("text, lang", [
    # dev37: a city to be razed (future or infinitive), Ukraine's cities to be taken or made "Russian again",
    # Ukraine cut off from the sea, "more SVOs", strikes called retaliation, the test site ready for tests.
    ("Рашистські пабліки лякають: рф зрівняє з землею Київ і Львів за 72 години.", "uk"),
    ("Сенатор вимагає зробити Одесу з Миколаєвом «знову російськими».", "uk"),
    ("Медведчук закликав окупувати Одесу «та інші міста».", "uk"),
    ("Депутат предложил оккупировать Харьков, если Киев не согласится.", "ru"),
    ("Сенатор требует отрезать Украину от Черного моря.", "ru"),
    ("Валуев пообещал, что «будут ещё СВО».", "ru"),
    ("Пєсков назвав нічний обстріл порту «ударами відплати» за міст.", "uk"),
    ("Начальник полигона на Новой Земле доложил, что объект в любой момент готов возобновить полномасштабные "
     "испытания.", "ru"),
])
def test_razing_cities_war_aims_and_retaliation_strikes_are_escalation(terms_only, text, lang):
    assert "escalation" in themes(terms_only, text, lang)


@pytest.mark.parametrize("text, lang", [
    # dev37: a city razed in the past is a strike report, and an occupied territory is no war aim.
    ("Російські удари фактично зрівняли з землею центр міста.", "uk"),
    ("Киев призвал жителей оккупированных территорий не участвовать в выборах.", "ru"),
])
def test_past_destruction_and_occupied_territories_are_not_threats_by_those_words(terms_only, text, lang):
    assert terms_score(terms_only, text, lang, "escalation") == 0


@pytest.mark.parametrize("text, lang", [
    # dev37: an election called "a referendum of trust" or "a sort of referendum" on a leader.
    ("Позачергові вибори фактично стали всенародним референдумом довіри до реформ президента.", "uk"),
    ("Місцеві вибори в США вийшли таким собі референдумом щодо Трампа.", "uk"),
    ("Выборы превратились в своего рода референдум о доверии мэру.", "ru"),
])
def test_elections_called_a_referendum_of_trust_are_not_referendums(terms_only, text, lang):
    assert "referendum" not in themes(terms_only, text, lang)


@pytest.mark.parametrize("text", [
    # dev38: Russia's presidential election carried into occupied regions is no annexation vote, and
    # midterms that "will be a referendum on" a policy are a figure of speech.
    "Officials installed by Moscow in Kherson region reported 61 polling stations and 300 mobile teams taking the "
    "presidential ballot to people's homes.",
    "A billboard in an occupied Luhansk-region town urged people to vote for 'our president'. Masked soldiers "
    "accompanied poll workers from flat to flat during the three-week ballot.",
    "November's midterms will be a referendum on Bidenomics rather than on Donald Trump.",
])
def test_presidential_ballots_in_occupied_regions_are_not_referendums(terms_only, text):
    assert "referendum" not in themes(terms_only, text, "en")


@pytest.mark.parametrize("text, lang", [
    # dev38: a "judgment day" promised to whoever tries to retake Crimea.
    ("Медведєв пообіцяв, що для всіх, хто спробує відвоювати Крим, «судний день» настане миттєво.", "uk"),
    ("Medvedev said an attack on Crimea would bring a Judgment Day with nowhere to hide.", "en"),
])
def test_a_judgment_day_promised_is_escalation(terms_only, text, lang):
    assert "escalation" in themes(terms_only, text, lang)


def test_nuclear_warheads_are_not_nuclear_war(terms_only):
    # dev38: the prefix "nuclear war*" also took "nuclear warheads" in neutral missile tests and arsenal
    # estimates; the war itself still counts in full.
    test = ("Pakistan's Army Strategic Forces Command carried out a training launch of the Shaheen-II, a "
            "surface-to-surface missile able to deliver conventional or nuclear warheads up to 1,500 km.")
    assert terms_score(terms_only, test, "en", "escalation") < 2
    assert "escalation" in themes(terms_only, "Medvedev warned again of a nuclear war with NATO.", "en")


@pytest.mark.parametrize("text, lang", [
    # dev39: a blockade called a casus belli as Russian and Ukrainian write it, NATO's countries to be
    # "demilitarised".
    ("Депутат назвал блокаду Калининграда казус белли для Союзного государства.", "ru"),
    ("Посол заявив, що арешт активів стане приводом для війни.", "uk"),
    ("Кадыров пообещал, что после Киева начнётся демилитаризация стран НАТО.", "ru"),
])
def test_a_casus_belli_and_demilitarising_nato_are_escalation(terms_only, text, lang):
    assert "escalation" in themes(terms_only, text, lang)


@pytest.mark.parametrize("text, lang", [
    # dev39: exercises announced as an answer to NATO's are half a sign of escalation, not a whole one.
    ("Министр назвал внезапную проверку войск ответом на учения соседей.", "ru"),
    ("Армія провела навчання у відповідь на дії сусідів.", "uk"),
    ("The drills were held in response to the neighbours' manoeuvres.", "en"),
])
def test_exercises_announced_as_an_answer_are_half_a_sign_of_escalation(terms_only, text, lang):
    assert terms_score(terms_only, text, lang, "escalation") == 1


@pytest.mark.parametrize("text, lang", [
    # dev39: accounts blocked to make men answer draft notices, the EU's gas market cap, a state's fuel
    # price ceiling at its filling stations, and a central bank's warning list of illegal lenders.
    ("Блокування рахунків стало важелем на чоловіків, які ігнорують повістки ТЦК.", "uk"),
    ("Совет ЕС утвердил механизм корректировки рынка: потолок цен на газ 180 евро за мегаватт-час.", "ru"),
    ("Мінекономіки підняло стелю цін на пальне: максимальна націнка на АЗС не зміниться.", "uk"),
    ("Банк России завёл чёрный список для нелегальных кредиторов и финансовых пирамид.", "ru"),
])
def test_draft_notices_gas_market_caps_home_fuel_ceilings_and_fraud_lists_are_not_sanctions(terms_only, text, lang):
    assert terms_score(terms_only, text, lang, "sanctions") == 0


def test_the_food_embargo_rosselkhoznadzor_enforces_is_a_counter_sanction(terms_only):
    # dev39: the veterinary service's import bans are animal health, but Russia's food embargo it
    # enforces is Russia's answer to the sanctions.
    embargo = ("Россельхознадзор сообщил, что продукция из стран, попавших под российское продовольственное эмбарго, "
               "заходит в Россию по серым схемам.")
    assert "sanctions" in themes(terms_only, embargo, "ru")
    health = "Россельхознадзор ввёл запрет на ввоз свинины из Польши из-за африканской чумы свиней."
    assert "sanctions" not in themes(terms_only, health, "ru")


@pytest.mark.parametrize("text, name", [
    # dev39: foreign officials' names in Russian and Ukrainian case endings, and Kadyrov by name and patronymic.
    ("Визит Кисиды в Киев перенесли.", "Fumio Kishida"),
    ("Слова Цахкны о танкере вызвали протест.", "Margus Tsahkna"),
    ("Глава МЗС Маргус Тсахкна закликав до жорсткіших кроків.", "Margus Tsahkna"),
    ("Рамзан Ахматович у себя в канале пообещал новые планы.", "Ramzan Kadyrov"),
])
def test_officials_are_found_in_their_inflected_and_patronymic_forms(terms_only, text, name):
    assert name in entity_names(terms_only, text)


def test_a_question_put_to_the_voters_is_half_a_referendum(terms_only):
    # dev40: "went to the polls to decide whether", "voters were asked whether": a yes-or-no question, with
    # a turnout bar it carries the theme.
    kazakhstan = ("Kazakhstan went to the polls on Sunday to decide whether to build its first nuclear power station; "
                  "the result is valid only if turnout tops 50%.")
    assert "referendum" in themes(terms_only, kazakhstan, "en")
    asked = "Voters in the region were asked whether they backed the plan."
    assert terms_score(terms_only, asked, "en", "referendum") == 1


@pytest.mark.parametrize("text, lang", [
    # dev40: Kyiv's name for the occupied Zaporizhzhia plant used as leverage.
    ("Zelensky accused Moscow of radiation blackmail at the Zaporizhzhia plant.", "en"),
    ("Зеленський звинуватив Москву в радіаційному шантажі на ЗАЕС.", "uk"),
    ("Киев обвинил Москву в радиационном шантаже.", "ru"),
])
def test_radiation_blackmail_is_escalation(terms_only, text, lang):
    assert "escalation" in themes(terms_only, text, lang)


def test_a_constitutional_court_is_not_a_constitution_put_to_the_vote(terms_only):
    # dev40: a parliament's vote on a land law its opponents will take to the Constitutional Court.
    rada = ("Верховна Рада 259 голосами ухвалила закон про обіг земель. Голосування відбувалося в присутності "
            "президента, а противники закону пообіцяли оскаржити його в Конституційному Суді.")
    assert terms_score(terms_only, rada, "uk", "referendum") < 2
    # The constitution itself put to the vote still counts.
    vote = "Голосування щодо змін до Конституції відбудеться навесні."
    assert terms_score(terms_only, vote, "uk", "referendum") >= 1


@pytest.mark.parametrize("text, lang", [
    # uk37-045: "актив*" as an asset also took "активісти" (activists) beside sites that were blocked.
    ("За тиждень заблокували 594 сайти нелегальних казино, допомагали волонтери й активісти.", "uk"),
    ("Власти заблокировали митинг, активисты задержаны.", "ru"),
])
def test_activists_are_not_assets(terms_only, text, lang):
    assert terms_score(terms_only, text, lang, "sanctions") == 0


@pytest.mark.parametrize("text, lang", [
    ("ЄС заблокував активи російського Центробанку.", "uk"),
    ("Бельгия заморозила активы российских банков.", "ru"),
])
def test_frozen_assets_are_still_sanctions(terms_only, text, lang):
    assert "sanctions" in themes(terms_only, text, lang)


@pytest.mark.parametrize("text, lang, theme, before", [
    # Prefixes that took words of another meaning (a review of every prefix against the dev words it takes):
    # "accord*" took "according" as a treaty beside "annexed"; "join*" took "joint"; "долг*" (debt) took
    # "долго" (long) and vetoed an asset arrest; "журнал*" (a journal's embargo) took "журналісти".
    ("According to Kyiv, Russia illegally annexed Crimea in 2014.", "en", "referendum", 5.0),
    ("Belarus held joint exercises with Russia near the border.", "en", "referendum", 1.0),
    ("США арестовали активы олигарха, которые долго прятали в офшорах.", "ru", "sanctions", 0.0),
    ("Журналісти повідомили, що ЄС запровадив ембарго на російську нафту.", "uk", "sanctions", 0.0),
])
def test_prefixes_no_longer_take_words_of_another_meaning(terms_only, text, lang, theme, before):
    assert terms_score(terms_only, text, lang, theme) != before


def test_a_bills_final_stage_is_not_a_staged_vote(terms_only):
    # dev41: the lemma of "staged" is "stage", so a bill's "final Commons stage by 320 votes" read as a
    # staged vote; the staged votes themselves still count.
    bill = "The Safety of Rwanda Bill cleared its final Commons stage by 320 votes to 276."
    assert terms_score(terms_only, bill, "en", "referendum") == 0
    staged = "Two years on from the staged votes in occupied Ukraine, the G7 restated its position."
    assert terms_score(terms_only, staged, "en", "referendum") >= 2


@pytest.mark.parametrize("text, lang", [
    # dev41: new sanctions called "an act of war" is half a sign (a prime minister may say it of seizing assets).
    ("Медведєв охрестив нові американські санкції «актом війни».", "uk"),
    ("Medvedev called the new sanctions an act of war.", "en"),
])
def test_an_act_of_war_is_half_a_sign_of_escalation(terms_only, text, lang):
    assert terms_score(terms_only, text, lang, "escalation") >= 1


@pytest.mark.parametrize("text", [
    # dev41 and earlier: Telegram's mocking spelling and the name and patronymic.
    "🤡 Мєдвєдєв знову в ефірі.",
    "Дмитро Анатолійович знову в ударі.",
])
def test_medvedev_is_found_by_nickname_spellings(terms_only, text):
    assert "Dmitry Medvedev" in entity_names(terms_only, text, "uk")


def test_continuing_is_not_extending_sanctions(terms_only):
    # The prefix "продовж*" (extend) also took "продовжує" (continues): a sentence about shelling that
    # continues read as sanctions being extended. "Продовжив санкції" still does.
    continues = "Україна продовжує обстріли, а ЄС обговорює санкції."
    assert terms_score(terms_only, continues, "uk", "sanctions") == 3
    extended = "ЄС продовжив санкції проти Росії ще на пів року."
    assert terms_score(terms_only, extended, "uk", "sanctions") == 8


@pytest.mark.parametrize("concept, lang, other, meant", [
    # The prefix review, second pass: bare prefixes of concepts that took words of another meaning. Each
    # is now the word itself (every form of its lemma) or its own forms; the meant word still counts.
    ("@asset_word", "en", "It was a fundamental change.", "The EU froze the funds of two banks."),
    ("@asset_word", "en", "Talks are holding up.", "Its holdings in London were frozen."),
    ("@trade_word", "en", "It is important to say.", "Imports of steel fell."),
    ("@asset_word", "uk", "Ремонт коштує дорого.", "Заморожено кошти банку."),
    ("@asset_word", "uk", "Призвали резервістів.", "Заморожено резерви Центробанку."),
    ("@aid_word", "ru", "Выступил помощник президента.", "Конгресс одобрил помощь Украине."),
    ("@treaty_word", "ru", "В дом угодил снаряд.", "Стороны подписали договор."),
    ("@treaty_word", "uk", "В дом угодил снаряд.", "Сторони підписали угоду."),
    ("@measures_word", "uk", "Ресурси обмежені.", "ЄС запровадив нові обмеження."),
    ("@renew_word", "ru", "Встреча продлится час.", "ЕС продлил санкции."),
    ("@price_word", "uk", "Загинули двоє найманців.", "Ціни на найм житла зросли."),
])
def test_bare_prefixes_take_their_meaning_and_not_its_false_friends(terms_only, concept, lang, other, meant):
    assert not concept_hit(terms_only, other, lang, concept)
    assert concept_hit(terms_only, meant, lang, concept)


@pytest.mark.parametrize("text, lang", [
    # dev42: a trade dispute that "could escalate into a trade war"; Semipalatinsk named as history beside a
    # vote on a power plant; Ukraine's own mobilisation reform beside its draft offices.
    ("Kazakh traders say the de facto ban could escalate into a trade war within the union.", "en"),
    ("Critics recall Semipalatinsk, where the Soviets ran over 450 nuclear tests.", "en"),
    ("Міністр оборони анонсував реформу мобілізації: роботу ТЦК переналаштують.", "uk"),
])
def test_trade_wars_closed_test_sites_and_ukraines_draft_reform_are_not_escalation(terms_only, text, lang):
    assert terms_score(terms_only, text, lang, "escalation") < 1


def test_the_verkhovna_rada_ratifying_agreements_is_no_annexation_but_a_referendum_named_still_counts(terms_only):
    rada = "Верховна Рада дедалі частіше буксує: провалюються навіть голосування за ратифікацію угод."
    assert "referendum" not in themes(terms_only, rada, "uk")
    plan = ("Zelensky now says the peace plan should be ratified through a nationwide referendum rather than by the "
            "Verkhovna Rada.")
    assert "referendum" in themes(terms_only, plan, "en")


@pytest.mark.parametrize("text, lang", [
    # dev43: a ballot's question in its own words beside a word of voting, and votes called "фиктивные".
    ("Токаев подписал указ: вся страна решит, строить ли АЭС. В бюллетене один вопрос — согласны ли вы со "
     "строительством?", "ru"),
    ("Лондон ввёл санкции за «фиктивные голосования» на захваченных территориях Украины.", "ru"),
])
def test_a_ballots_question_and_votes_called_fictitious_are_referendums(terms_only, text, lang):
    assert "referendum" in themes(terms_only, text, lang)


def test_nuclear_powered_weapons_are_not_nuclear_power(terms_only):
    # dev43: "power" in the power-plant caution also took "nuclear-powered" (its lemma is "power"), so the
    # Burevestnik's test raised the model's bar as if it were a reactor; a power plant still does.
    burevestnik = "Gerasimov reported that the nuclear-powered Burevestnik flew 14,000 km."
    plant = "The nuclear power plant lost its external grid again."
    def cautioned(text):
        a = terms_only.analyse(text, "en")
        return terms_only.theme_index("escalation") in a.cautioned
    assert not cautioned(burevestnik) and cautioned(plant)


@pytest.mark.parametrize("text, lang, name", [
    # dev43: Telegram's nicknames.
    ("Batka already promised to use the Russian warheads parked in Belarus.", "en", "Alexander Lukashenko"),
    ("Мотострелки дожали ВСУшников на красноармейском направлении.", "ru", "Armed Forces of Ukraine"),
    # dev43 and older splits: Ukrainian spellings with "є", Lukashenko's nickname (capitalised, so "батька"
    # the father is not him), and Petersburg's adjective.
    ("Індійські НПЗ відмовляються від закупівель у «Роснєфті».", "uk", "Rosneft"),
    ("Заступник гауляйтера Стрємоусов пояснив «паузу».", "uk", "Kirill Stremousov"),
    ("Батька после учений под Барановичами заявил о готовности.", "ru", "Alexander Lukashenko"),
    ("АИ-92 на питерской бирже снова переписал рекорд.", "ru", "Saint Petersburg"),
])
def test_telegram_spellings_and_nicknames_name_their_entities(terms_only, text, lang, name):
    assert name in entity_names(terms_only, text, lang)


def test_a_father_is_not_lukashenko(terms_only):
    assert "Alexander Lukashenko" not in entity_names(terms_only, "Мой батька служил в армии.", "ru")


@pytest.mark.parametrize("text, lang", [
    # dev44: mobilisation denied, or called a rumour or a fake.
    ("В Думе всеобщую мобилизацию не обсуждают, заверил депутат.", "ru"),
    ("Слухи о всеобщей мобилизации в Кремле назвали фейком.", "ru"),
    ("Песков о всеобщей мобилизации и объявлении войны: «Это неправда, это чушь».", "ru"),
])
def test_mobilisation_denied_or_called_a_rumour_is_not_escalation(terms_only, text, lang):
    assert "escalation" not in themes(terms_only, text, lang)


def test_a_call_for_general_mobilisation_is_still_escalation(terms_only):
    text = "Депутат потребовал объявить всеобщую мобилизацию и перевести страну на военные рельсы."
    assert "escalation" in themes(terms_only, text, "ru")


@pytest.mark.parametrize("text, lang", [
    # dev44: a direct fight or an open armed conflict with America, a flag state made a party to the conflict,
    # the abbreviation of non-strategic nuclear weapons; dev45: the forces of strategic deterrence.
    ("Медведев назвал каждый такой ультиматум шагом к прямой схватке с Америкой.", "ru"),
    ("Рябков: мы стоим на краю открытого вооружённого конфликта с США.", "ru"),
    ("Государство, под чьим флагом идёт судно, будет считаться участником конфликта на стороне Киева.", "ru"),
    ("Кремль пригрозив визнати Німеччину учасником конфлікту.", "uk"),
    ("Москва и Минск при необходимости проведут новые учения по применению НСЯО.", "ru"),
    ("Силы стратегического сдерживания проведут манёвры с пусками баллистических ракет.", "ru"),
])
def test_direct_conflict_in_more_words_and_nuclear_forces_by_other_names_are_escalation(terms_only, text, lang):
    assert "escalation" in themes(terms_only, text, lang)


@pytest.mark.parametrize("text, concept", [
    ("Вашингтон карабкается всё выше по лестнице обострения.", "@red_line"),
    ("Американцы ведут себя безбашенно, заигравшись с огнём.", "@play_with_fire"),
])
def test_the_escalation_ladder_and_playing_with_fire_in_more_words(terms_only, text, concept):
    assert concept_hit(terms_only, text, "ru", concept)


@pytest.mark.parametrize("text", [
    # dev44: a regulator's electricity price ceiling, the grid's restrictions during power cuts, Ukraine's own
    # ban on exporting raw timber, and banks' monitoring that names "sanctioned" countries.
    "Регулятор підняв «стелю» цін на струм у вечірній пік для промисловості.",
    "Для промислових споживачів діятимуть графіки обмеження потужності: обмежувальні заходи в Укренерго "
    "пояснюють наслідками російських ударів.",
    "Арбітраж визнав, що українська заборона на вивезення необробленої деревини суперечить угоді, і Брюссель "
    "чекає, що Київ зніме заборону.",
    "Банки блокують картки через фінмоніторинг: під підозру потрапляють і операції з підсанкційних країн.",
])
def test_ukrainian_price_ceilings_power_cuts_timber_and_card_blocks_are_not_sanctions(terms_only, text):
    assert "sanctions" not in themes(terms_only, text, "uk")


def test_a_ban_on_russian_timber_is_still_a_sanction(terms_only):
    assert "sanctions" in themes(terms_only, "ЄС запровадив заборону на імпорт деревини з Росії.", "uk")


def test_setting_off_a_thermonuclear_charge_in_slang_is_escalation(terms_only):
    # dev44 and dev30: "рвануть" (to set off) beside a nuclear word.
    assert "escalation" in themes(terms_only, "Симоньян предложила рвануть термоядерный заряд над Сибирью.", "ru")


def test_a_snow_apocalypse_is_weather_not_a_world_war(terms_only):
    # dev45: the weather news calls a snowfall an "apocalypse".
    text = "На Камчатке «снежный апокалипсис»: две месячные нормы снега, тысячи людей без света."
    assert "escalation" not in themes(terms_only, text, "ru")


def test_revoking_the_test_ban_ratification_is_no_referendum(terms_only):
    # dev45: a parliament's vote on a treaty's ratification, where the treaty bans nuclear tests.
    text = "Дума проголосовала за отзыв ратификации договора о запрете ядерных испытаний."
    assert "referendum" not in themes(terms_only, text, "ru")


@pytest.mark.parametrize("text, lang", [
    # dev46: the right to answer "where and when it sees fit" reserved; any ship taken for a carrier of
    # military cargo; a leader's "physical elimination" called for.
    ("В Кремле заявили, что оставляют за собой право ответить там и тогда, когда сочтут нужным.", "ru"),
    ("Захарова: Москва залишає за собою право на відповідь.", "uk"),
    ("The Kremlin said it reserves the right to respond at a time of its choosing.", "en"),
    ("С полуночи любое судно в украинские порты будет считаться потенциальным перевозчиком военного груза.", "ru"),
    ("Медведев заявил, что не осталось иного выхода, кроме физического устранения Зеленского.", "ru"),
])
def test_reserved_answers_cargo_warnings_and_calls_to_kill_are_escalation(terms_only, text, lang):
    assert "escalation" in themes(terms_only, text, lang)


@pytest.mark.parametrize("text, lang", [
    # Counter-measures reserved in a sanctions story, and ships listed for carrying military cargo.
    ("МИД оставляет за собой право на ответные меры после нового пакета санкций.", "ru"),
    ("Рада ЄС додала до чорного списку ще 41 судно, серед них кораблі з військовими вантажами.", "uk"),
])
def test_reserved_counter_measures_and_listed_cargo_ships_are_not_escalation(terms_only, text, lang):
    assert "escalation" not in themes(terms_only, text, lang)


@pytest.mark.parametrize("text, lang", [
    # The plant used as leverage: until dev46 the plant's own name ("АЭС", "nuclear power plant"), an exclusion
    # of nuclear power, vetoed the threat.
    ("Россия пригрозила взорвать Запорожскую АЭС, если ВСУ пойдут в наступление.", "ru"),
    ("Russia threatened to blow up the Zaporizhzhia nuclear power plant.", "en"),
    ("Москва погрожує підірвати Запорізьку АЕС.", "uk"),
])
def test_a_threat_to_blow_up_the_zaporizhzhia_plant_is_escalation(terms_only, text, lang):
    assert "escalation" in themes(terms_only, text, lang)


@pytest.mark.parametrize("text, lang", [
    ("The IAEA warned that shelling threatens safety at the Zaporizhzhia nuclear power plant.", "en"),
    ("МАГАТЭ: обстрелы угрожают безопасности Запорожской АЭС.", "ru"),
])
def test_shelling_that_threatens_the_plants_safety_is_still_no_escalation(terms_only, text, lang):
    assert "escalation" not in themes(terms_only, text, lang)


@pytest.mark.parametrize("text, lang", [
    # dev46, dev47: nuclear weapons placed in Belarus as an answer to "unfriendly countries".
    ("Шойгу и Хренин подписали документы о хранении ядерных боезарядов в Белоруссии в ответ на действия "
     "недружественных стран.", "ru"),
    ("Хренін подав розміщення ядерної зброї в Білорусі як відповідь недружнім країнам.", "uk"),
])
def test_nuclear_weapons_as_an_answer_to_unfriendly_countries_are_no_sanctions(terms_only, text, lang):
    assert "sanctions" not in themes(terms_only, text, lang)


def test_russias_counter_measures_against_unfriendly_countries_are_still_sanctions(terms_only):
    text = "Россия расширила список недружественных стран и ввела ответные ограничения на вывоз капитала."
    assert "sanctions" in themes(terms_only, text, "ru")


@pytest.mark.parametrize("text, lang", [
    # dev48: the deterrence forces put on special combat duty; a step that "will have unpredictable consequences".
    ("Путин приказал перевести силы сдерживания в особый режим несения боевого дежурства.", "ru"),
    ("Посольство РФ застерегло, що передача Україні комплексів Patriot матиме непередбачувані наслідки.", "uk"),
    ("Moscow warned that stationing the missiles in Poland would have unpredictable consequences.", "en"),
])
def test_deterrence_forces_on_alert_and_unpredictable_consequences_are_escalation(terms_only, text, lang):
    assert "escalation" in themes(terms_only, text, lang)


@pytest.mark.parametrize("text, lang", [
    # dev49: a direct *armed* clash or confrontation between Russia and NATO warned of.
    ("Полищук предупредил, что риск прямого вооружённого противостояния между НАТО и Россией резко вырастет.", "ru"),
    ("Рябков: опасность прямого вооружённого столкновения ядерных держав недооценивать нельзя.", "ru"),
    ("Поява F-16 стане кроком до прямого збройного зіткнення з НАТО, заявив посол.", "uk"),
])
def test_a_direct_armed_clash_warned_of_is_escalation(terms_only, text, lang):
    assert "escalation" in themes(terms_only, text, lang)


@pytest.mark.parametrize("text, lang", [
    # A seizure beside Russia's oligarchs carries sanctions on the terms alone; the model had carried the
    # Italian yachts at p 0.58-0.60, a hair either side of its bar as it was retrained.
    ("Влада Італії арештувала яхти двох російських олігархів.", "uk"),
    ("Испанский суд арестовал виллу российского олигарха на Майорке.", "ru"),
    ("US prosecutors moved to seize a $300 million yacht of a Kremlin-linked oligarch.", "en"),
])
def test_russian_oligarchs_property_seized_is_sanctions_on_the_terms_alone(terms_only, text, lang):
    assert "sanctions" in themes(terms_only, text, lang)


def test_an_oligarchs_property_seized_in_a_criminal_case_naming_no_russia_is_no_sanctions_on_the_terms(terms_only):
    # The oligarch term needs Russia (or the Kremlin) beside the oligarch; a domestic case is left alone.
    text = "Суд арештував майно олігарха у справі про розкрадання коштів банку."
    assert "sanctions" not in themes(terms_only, text, "uk")


def test_a_governments_ceiling_on_petrol_and_diesel_by_the_litre_is_no_sanctions(terms_only):
    # dev51: Hungary's retail fuel ceiling matched the oil price cap's "ceiling" beside "diesel".
    text = "Orbán said Hungary will keep its ceilings on petrol and diesel, fixed at 480 forints a litre, for two more months."
    assert "sanctions" not in themes(terms_only, text, "en")


@pytest.mark.parametrize("text, lang", [
    ("The G7 agreed a price cap of $100 a barrel on Russian diesel and other petroleum products.", "en"),
    ("Країни G7 домовилися про граничну ціну на російські нафтопродукти та дизель.", "uk"),
    ("The price cap on Russian petrol and diesel exports took effect on Sunday.", "en"),
    ("Потолок цен на российский бензин и дизель вступил в силу.", "ru"),
])
def test_the_price_cap_on_russian_diesel_is_still_sanctions(terms_only, text, lang):
    assert "sanctions" in themes(terms_only, text, lang)


@pytest.mark.parametrize("text, lang", [
    # dev42, dev32: "stationed" has the lemma of a power station's "station"; the nuclear-power exclusion
    # vetoed warheads stationed in Belarus.
    ("Putin confirmed that the first Russian tactical nuclear weapons are already stationed in Belarus.", "en"),
    ("Ryabkov said Moscow might have to station intermediate-range nuclear missiles in Europe.", "en"),
])
def test_nuclear_weapons_stationed_abroad_are_escalation_not_a_power_station(terms_only, text, lang):
    assert "escalation" in themes(terms_only, text, lang)


@pytest.mark.parametrize("text, lang", [
    ("Turkey's first nuclear power station at Akkuyu will receive fuel in April, Erdogan said.", "en"),
    ("Europe's largest nuclear station ran on emergency diesel after shelling cut its power lines.", "en"),
    # A missile that strikes a station is no nuclear missile stationed.
    ("A missile struck the nuclear station's cooling pond, Energoatom said.", "en"),
    # The IAEA's warnings of accidents at the plant are routine dangers, not the plant held as leverage.
    ("Grossi warned that accidents can happen at the Zaporizhzhia nuclear power plant while it lacks external power.",
     "en"),
])
def test_a_nuclear_power_station_is_still_no_escalation(terms_only, text, lang):
    assert "escalation" not in themes(terms_only, text, lang)


@pytest.mark.parametrize("text, lang", [
    # The plant held as leverage was vetoed by its own names (thirteen dev passages, dev2-dev48).
    ("Kuleba said Russia uses the occupied Zaporizhzhia nuclear power plant as a tool of nuclear blackmail.", "en"),
    ("Порошенко назвав ситуацію на Запорізькій АЕС ядерним шантажем Росії.", "uk"),
    ("Энергоатом: рф снова обесточила ЗАЭС и теперь шантажирует ядерной аварией весь мир.", "ru"),
])
def test_the_nuclear_plant_held_as_leverage_is_escalation(terms_only, text, lang):
    assert "escalation" in themes(terms_only, text, lang)


@pytest.mark.parametrize("text, lang", [
    ("Grossi said shelling near the Zaporizhzhia nuclear power plant threatens nuclear safety again.", "en"),
    ("МАГАТЕ: Запорізька АЕС вшосте перейшла на дизель-генератори після обстрілу ліній.", "uk"),
])
def test_the_nuclear_plants_routine_news_is_still_no_escalation(terms_only, text, lang):
    assert "escalation" not in themes(terms_only, text, lang)


@pytest.mark.parametrize("text", [
    # dev12, dev41: questions put to the voters on an election day were vetoed as the election's turnout.
    "Both questions put to Lithuanians on presidential election day fell through: 74% backed dual nationality, "
    "but turnout was too low.",
    "Around 59% of Ecuadorians backed halting oil extraction in Yasuní; the question was put to voters alongside "
    "a presidential contest with 82% turnout.",
])
def test_questions_put_to_voters_on_an_election_day_are_a_referendum(terms_only, text):
    assert "referendum" in themes(terms_only, text, "en")


@pytest.mark.parametrize("text", [
    "Turnout in the presidential election reached 62 percent, the national election commission said.",
    "Voters questioned the fairness of the presidential election, with turnout at 48%.",
])
def test_an_elections_turnout_alone_is_still_no_referendum(terms_only, text):
    assert "referendum" not in themes(terms_only, text, "en")


@pytest.mark.parametrize("text, lang", [
    # Moscow's stock formula for a military answer (dev53: all 21 dev passages that use it are threats).
    ("Москва примет военно-технические меры в ответ на учения альянса у своих границ.", "ru"),
    ("Грушко пригрозив заходами військово-технічного характеру у відповідь на розширення НАТО.", "uk"),
    ("Moscow will answer with measures of a military-technical nature, the foreign ministry said.", "en"),
])
def test_measures_of_a_military_technical_nature_are_escalation(terms_only, text, lang):
    assert "escalation" in themes(terms_only, text, lang)


@pytest.mark.parametrize("text, lang", [
    ("Россия и Индия обсудили военно-техническое сотрудничество на форуме в Нью-Дели.", "ru"),
    ("Україна та Польща розширять військово-технічне співробітництво, домовилися міністри.", "uk"),
])
def test_military_technical_cooperation_is_no_escalation(terms_only, text, lang):
    assert "escalation" not in themes(terms_only, text, lang)


def test_measures_of_a_military_technical_nature_are_no_sanctions(terms_only):
    # "American ... measures" within two words is a sanctions term; here the measures are military.
    text = "МИД России пообещал ответить на размещение американских баз мерами военно-технического характера."
    assert themes(terms_only, text, "ru") == {"escalation"}


@pytest.mark.parametrize("text, lang", [
    # dev53: "all available means" had its English form only; the Russian and Ukrainian instrumental too.
    ("Песков: Россия будет защищать свои суда на Балтике всеми доступными средствами.", "ru"),
    ("Кремль: Росія захищатиме свої танкери на Балтиці всіма доступними засобами.", "uk"),
])
def test_all_available_means_is_a_threat_word_in_russian_and_ukrainian(terms_only, text, lang):
    assert terms_score(terms_only, text, lang, "escalation") == 1.0  # a sign, which needs company


@pytest.mark.parametrize("text, lang, theme", [
    # dev54: Ukraine's own war with Russia read as a widening of it (a direct clash of NATO and Russia).
    ("Туск запевнив, що Варшава й надалі допомагатиме Україні у війні з Росією, але не коштом фермерів.", "uk",
     "escalation"),
    # The EU's autonomous trade measures let Ukraine's goods in duty-free; ending them is trade policy.
    ("Польща більше не застосовуватиме автономних торговельних заходів ЄС, що дозволяли ввозити українські товари "
     "без мит.", "uk", "sanctions"),
    # A neighbour's embargo on Ukraine's products protects its farmers.
    ("Польща зберігатиме власне ембарго на українську продукцію, попри рішення Єврокомісії.", "uk", "sanctions"),
    # A bailiff freezing a debtor's funds in enforcement proceedings.
    ("Виконавець арештовує кошти боржника на рахунку у виконавчому провадженні, і вони заморожуються автоматично.",
     "uk", "sanctions"),
    # The West's restrictions on strikes with its weapons are about the war, not sanctions.
    ("Вашингтон ослабил ограничения на удары американским оружием по территории России, заявил Песков.", "ru",
     "sanctions"),
])
def test_dev54_look_alikes_carry_no_theme_on_the_terms(terms_only, text, lang, theme):
    assert theme not in themes(terms_only, text, lang)


@pytest.mark.parametrize("text, lang, theme", [
    ("Медведев: передача Taurus Києву означатиме війну з Росією для Німеччини.", "uk", "escalation"),
    ("ЄС заморозив активи Центробанку Росії на 210 мільярдів євро.", "uk", "sanctions"),
    ("Россия ввела запрет на ввоз украинской продукции в ответ на санкции ЕС.", "ru", "sanctions"),
])
def test_war_with_russia_frozen_assets_and_counter_bans_still_carry_their_theme(terms_only, text, lang, theme):
    assert theme in themes(terms_only, text, lang)


@pytest.mark.parametrize("text, lang, theme", [
    # dev55: NATO's own nuclear exercise, named, read as a threat (nuclear beside deterrence and exercise).
    ("NATO opens Steadfast Noon, its nuclear deterrence exercise, next week with 60 aircraft from 13 allies.", "en",
     "escalation"),
    # dev55: carworkers ratifying their labour agreement, voting yes, read as a referendum.
    ("UAW members ratified the tentative agreement with Ford, with 64% voting yes.", "en", "referendum"),
])
def test_dev55_look_alikes_carry_no_theme_on_the_terms(terms_only, text, lang, theme):
    assert theme not in themes(terms_only, text, lang)


@pytest.mark.parametrize("text, lang, theme", [
    ("Russia warned NATO it would respond to the alliance's nuclear drills near its borders.", "en", "escalation"),
    ("Voters in Ohio approved Issue 1 by voting yes on the ballot measure.", "en", "referendum"),
])
def test_threats_about_drills_and_ballot_measures_still_carry_their_theme(terms_only, text, lang, theme):
    assert theme in themes(terms_only, text, lang)


def test_nuclear_tests_are_a_sign_of_escalation(terms_only):
    # dev55: "Putin ordered the government to prepare full-scale nuclear tests" reached 1.5 of 2 on its terms.
    text = "Путін доручив уряду готуватися до повноцінних ядерних випробувань."
    assert "escalation" in themes(terms_only, text, "uk")


def test_a_law_restoring_ukraines_sovereignty_over_donbas_is_no_referendum(terms_only):
    # dev56: "bill ... sovereignty" read as an annexation treaty.
    text = ("The Rada passed the bill on restoring Ukraine's sovereignty over the occupied parts of Donetsk and "
            "Luhansk regions.")
    assert "referendum" not in themes(terms_only, text, "en")
    annexed = "After the so-called votes Russia annexed Donetsk and claimed sovereignty over the region."
    assert "referendum" in themes(terms_only, annexed, "en")


@pytest.mark.parametrize("text, lang", [
    # Round 28: a propagandist's call to tear the bridges down (dev48, dev50).
    ("Военкор Сладков опять за своё: мосты через Днепр надо валить, все до одного.", "ru"),
    ("Депутат Луговой призвал снести переправы через Днепр.", "ru"),
    ("Журавльов закликав знести Офіс президента та будівлю Генштабу в Києві.", "uk"),
    # The Soviet automatic retaliation system invoked.
    ("Медведев напомнил Трампу о «Мёртвой руке».", "ru"),
])
def test_calls_to_raze_and_the_dead_hand_are_escalation(terms_only, text, lang):
    assert "escalation" in themes(terms_only, text, lang)


def test_a_drone_destroyed_over_a_region_is_no_call_to_raze(terms_only):
    # "над" shares "надо"'s lemma: air defence destroying drones "над областью" is a strike report.
    text = "Дежурные средства ПВО уничтожили беспилотник над Белгородской областью, сообщило Минобороны."
    assert "escalation" not in themes(terms_only, text, "ru")


@pytest.mark.parametrize("text, lang", [
    # Round 28: the biathlon union barring Russia's athletes is a sport body's decision.
    ("Міжнародний союз біатлоністів задовольнив вимоги щодо обмежень для Росії та Білорусі.", "uk"),
    # The cut-off oil price of Russia's own budget rule is no price cap.
    ("Російський уряд думає опустити граничну ціну нафти в бюджетному правилі до 50 доларів.", "uk"),
    # Limits on how far donated weapons may strike, lifted.
    ("Мерц заявил о снятии ограничений на дальность поставляемого Киеву оружия.", "ru"),
])
def test_round_28_look_alikes_are_no_sanctions(terms_only, text, lang):
    assert "sanctions" not in themes(terms_only, text, lang)


def test_the_oil_price_cap_and_sanctions_on_athletes_by_the_nsdc_are_still_sanctions(terms_only):
    assert "sanctions" in themes(terms_only, "Країни G7 знизили стелю цін на російську нафту до 47,6 долара.", "uk")
    assert "sanctions" in themes(terms_only, "РНБО запровадила санкції проти десяти російських спортсменів.", "uk")


@pytest.mark.parametrize("text, lang", [
    # Round 28: the navy set against the seizure of Russia's tankers, and pirates to be destroyed.
    ("Патрушев предупредил, что Москва может задействовать ВМФ, чтобы не дать Европе захватывать суда.", "ru"),
    ("Путин о задержании танкеров: что с пиратами делают? Уничтожают.", "ru"),
])
def test_the_navy_set_against_ship_seizures_is_escalation(terms_only, text, lang):
    assert "escalation" in themes(terms_only, text, lang)


def test_the_black_sea_fleet_in_a_strike_report_is_no_escalation(terms_only):
    text = "Черноморский флот провёл плановые учения по борьбе с безэкипажными катерами у берегов Крыма."
    assert "escalation" not in themes(terms_only, text, "ru")


def test_russian_nuclear_arms_placed_against_unfriendly_countries_are_no_sanctions(terms_only):
    # Round 28: the nuclear words a sentence before the "answer" (ru58u-034).
    text = ("Шойгу и Хренин подписали документы о хранении российского ядерного оружия в Беларуси. Хренин назвал "
            "размещение действенным ответом на политику недружественных стран.")
    assert "sanctions" not in themes(terms_only, text, "ru")


@pytest.mark.parametrize("text", [
    # Round 28: a central bank easing its currency controls; gas storage filling before winter.
    "Нацбанк пом'якшив частину валютних обмежень для компаній.",
    "Сховища газу в Євросоюзі заповнені на 90%, що дозволить відмовитися від російського газу.",
])
def test_currency_controls_and_gas_storage_raise_the_models_bar_for_sanctions(rules, text):
    a = rules.analyse(text, "uk")
    index = rules.theme_index("sanctions")
    assert index in a.cautioned
    assert "sanctions" not in themes(rules, text, "uk")


@pytest.mark.parametrize("text, lang", [
    # Round 28: Russia's own petrol export ban, extended to hold home prices (dev59; seventeen dev passages).
    ("Ограничение на вывоз бензина из России сохранится до конца октября, сообщили в Минэнерго.", "ru"),
    ("Уряд РФ продовжив до 31 грудня заборону вивозити бензин з Росії.", "uk"),
])
def test_russias_own_petrol_export_ban_is_no_sanctions(terms_only, text, lang):
    assert "sanctions" not in themes(terms_only, text, lang)


def test_an_embargo_on_russian_oil_products_is_still_sanctions(terms_only):
    text = "ЕС ввёл эмбарго на импорт российских нефтепродуктов, включая бензин и дизельное топливо."
    assert "sanctions" in themes(terms_only, text, "ru")


@pytest.mark.parametrize("text, lang", [
    # Round 28: Russia withdrawing its ratification of the test-ban treaty (dev60; eleven dev passages).
    ("Госдума приступила к отзыву ратификации ДВЗЯИ, заявил Вячеслав Володин.", "ru"),
    ("Держдума відкликала ратифікацію ДВЗЯВ, заявив Володін.", "uk"),
])
def test_withdrawing_the_test_ban_ratification_is_escalation(terms_only, text, lang):
    assert "escalation" in themes(terms_only, text, lang)


def test_a_call_to_cut_russia_off_swift_is_sanctions_and_a_ban_on_russian_performers_is_not(terms_only):
    assert "sanctions" in themes(terms_only, "Кулеба закликав негайно відрізати Росію від SWIFT.", "uk")
    banned = "Депутати заборонили звучання творів російських виконавців у медіа та громадських місцях."
    assert "sanctions" not in themes(terms_only, banned, "uk")


@pytest.mark.parametrize("text", [
    # Round 28 (dev61): a traffic bill's penalties; Russia's regulator blocking a platform at home, got round by
    # VPN; the European Peace Facility's money held up by Hungary.
    "Нові санкції для порушників ПДР: законопроєкт пропонує штраф за повторний проїзд на червоне.",
    "Роскомнагляд оголосив про блокування Instagram, а користувачі обходять обмеження через VPN.",
    "Угорщина досі тримає замороженими кошти Європейського фонду миру для України.",
])
def test_round_28_ukrainian_look_alikes_are_no_sanctions(terms_only, text):
    assert "sanctions" not in themes(terms_only, text, "uk")


def test_frozen_russian_assets_and_sanctions_on_russian_platforms_are_still_sanctions(terms_only):
    assert "sanctions" in themes(terms_only, "ЄС заморозив активи російського Центробанку на 210 млрд євро.", "uk")
    assert "sanctions" in themes(terms_only, "РНБО запровадила санкції проти ВКонтакте та Яндекса.", "uk")


def test_limits_a_state_sets_itself_on_deploying_missiles_are_no_sanctions(terms_only):
    # Round 28 (ru58u-032): Moscow no longer bound by its own moratorium on deploying intermediate-range missiles.
    text = "МИД России объявил, что Москва больше не связана ограничениями на развёртывание ракет средней дальности."
    assert "sanctions" not in themes(terms_only, text, "ru")


@pytest.mark.parametrize("text, lang", [
    # Round 29 (dev63): an attack on NATO or Europe called nonsense or a lie; the model alone read the speaker
    # and the threat's own words at 0.85-0.97. Twelve dev passages, none lost.
    ("На Валдае Владимир Путин назвал «чушью» разговоры о том, что Россия собирается напасть на НАТО.", "ru"),
    ("Россия ни на кого не нападала и меньше всех хочет слова «война», заявил Дмитрий Песков.", "ru"),
    ("Kremlin spokesman Dmitry Peskov said talk of Russia preparing to attack NATO was complete nonsense.", "en"),
])
def test_an_attack_called_nonsense_keeps_the_model_from_reading_a_threat(rules, text, lang):
    assert "escalation" not in themes(rules, text, lang)


def test_a_denial_turned_by_a_but_into_a_warning_is_still_escalation(rules):
    # Round 29 (dev65): the silence spares a denial that "при этом", "but" or "while" turns within fifteen words.
    text = ("Лавров заявил, что Россия не планирует нападать на страны НАТО. При этом он предупредил, что любая "
            "агрессия получит решительный отпор.")
    assert "escalation" in themes(rules, text, "ru")


@pytest.mark.parametrize("text", [
    # Round 29 (dev65): charges called groundless, and "we have not gone mad", beside nuclear words.
    "Песков назвал беспочвенными утверждения, будто Россия способна развязать ядерную войну.",
    "Путин заверил, что Россия «не сошла с ума» и понимает, что такое ядерное оружие.",
])
def test_nuclear_war_called_groundless_or_ruled_out_is_no_escalation(rules, text):
    assert "escalation" not in themes(rules, text, "ru")


def test_a_threat_a_ukrainian_channel_calls_a_scare_story_is_not_silenced(rules):
    # Round 29 (dev66): "лякалки" is the channel's frame round a threat still told, not the speaker's denial; the
    # silence reads only the speaker's own ("@own_denial"), so the model still carries the threat.
    text = ("Медведєв натякнув, що в разі вступу Швеції та Фінляндії до НАТО Росія розмістить ядерну зброю в "
            "Балтійському регіоні. Лякалки від головного «тостувальника» Радбезу, версія північна.")
    assert "escalation" in themes(rules, text, "uk")


def test_the_ban_on_striking_russia_with_donated_weapons_is_no_sanctions(terms_only):
    # Round 29 (dev66): the partners' ban on striking Russia's territory with their weapons, easing.
    text = "Заборона бити західною зброєю по території Росії, яку партнери ставили умовою постачань, слабне."
    assert "sanctions" not in themes(terms_only, text, "uk")


@pytest.mark.parametrize("text, lang", [
    # Round 29 (dev67): an arms-control treaty suspended or its ratification withdrawn, the moratorium on
    # intermediate-range missiles ended; the arms-control exclusion spares a treaty left.
    ("Путін оголосив, що Росія призупиняє участь у договорі про стратегічні наступальні озброєння.", "uk"),
    ("Путін допустив, що Росія відкличе ратифікацію договору про заборону ядерних випробувань.", "uk"),
    ("Пєсков прокоментував відмову Росії від мораторію на ракети середньої та меншої дальності.", "uk"),
])
def test_leaving_an_arms_control_treaty_is_escalation(terms_only, text, lang):
    assert "escalation" in themes(terms_only, text, lang)


def test_a_company_leaving_russia_told_without_sanctions_needs_the_models_caution_bar(rules):
    # Round 29 (dev68, uk68x-023): a bank that cannot sell its Russian arm, which the model alone read as sanctions
    # at 0.72; companies leaving or staying in Russia are a caution context now.
    text = ("Австрійський Raiffeisen Bank International так і не зміг продати свою російську «доньку»: за даними ЗМІ, "
            "угоду зірвала позиція Кремля. Москві банк потрібен для переказів у Європу, зокрема для розрахунків за газ, "
            "що йде «Турецьким потоком», а близько 7 млрд євро його прибутку в Росії фактично застрягли там.")
    assert "sanctions" not in themes(rules, text, "uk")


def test_bank_accounts_blocked_for_draft_dodgers_are_no_sanctions(terms_only):
    # Round 29 (dev68, uk68v-053): penalties under Ukraine's mobilisation law.
    text = ("Ухилянтів б'ють по кишені й по кермі: станом на весну 2025-го в Україні заблоковано понад 26 тисяч "
            "банківських рахунків тих, хто порушив правила мобілізації та військового обліку.")
    assert "sanctions" not in themes(terms_only, text, "uk")


@pytest.mark.parametrize("text", [
    # Round 29 (dev64, dev69): the Ministry of Justice's suits at the anti-corruption court for sanctioned owners'
    # assets, by the bodies' short or full names.
    "ВАКС задовольнив позов Мін'юсту і передав у дохід держави залізорудну продукцію групи Усманова.",
    "До Вищого антикорупційного суду надійшов позов Міністерства юстиції про стягнення в дохід держави активів Дерипаски.",
])
def test_the_justice_ministrys_suit_at_the_anticorruption_court_is_sanctions(terms_only, text):
    assert "sanctions" in themes(terms_only, text, "uk")


def test_mobilisation_extended_in_the_other_ukrainian_word_is_no_escalation(terms_only):
    # Round 30 (dev70, uk70x-003): "продовжено" is Ukrainian's other "extended"; ten dev passages, all the Rada's vote.
    text = ("Парламент затвердив укази про продовження воєнного стану ще на 90 днів. Разом із ним продовжено й "
            "загальну мобілізацію.")
    assert "escalation" not in themes(terms_only, text, "uk")


@pytest.mark.parametrize("text, lang", [
    # Round 30 (dev70, dev57): forecasts of an attack on NATO called false or groundless by the speaker; the model
    # alone read them at 0.82-0.89.
    ("Дмитро Пєсков назвав хибними й позбавленими логіки західні прогнози, ніби Росія може напасти на країни НАТО.",
     "uk"),
    ("Шойгу заявил, что Россию безосновательно упрекают в планах нападения на страны альянса.", "ru"),
])
def test_an_attack_plan_called_false_keeps_the_model_from_reading_a_threat(rules, text, lang):
    assert "escalation" not in themes(rules, text, lang)


def test_an_attack_under_a_false_flag_is_no_denial(rules):
    # The "called false" words are phrases ("назвав хибними"), not a bare "хибн*": an attack "під хибним прапором"
    # is told, not denied, so no silence context matches it.
    text = "Міноборони Росії заявило, що Київ готує напад під хибним прапором на Запорізьку АЕС."
    a = rules.analyse(text, "uk")
    assert not rules.silence_matches(a, rules.theme_index("escalation"))


@pytest.mark.parametrize("text, lang", [
    # Round 30: the martial-law and mobilisation exclusions read Ukraine's routine vote; Russia declaring them (or
    # called on to) is the escalatory step the definition names.
    ("Путін може оголосити воєнний стан і загальну мобілізацію вже після виборів, попереджають у ГУР.", "uk"),
    ("Депутат Госдумы призвал Кремль ввести военное положение и всеобщую мобилизацию.", "ru"),
])
def test_russia_declaring_martial_law_and_general_mobilisation_is_escalation(terms_only, text, lang):
    assert "escalation" in themes(terms_only, text, lang)


@pytest.mark.parametrize("text, lang", [
    # Round 30 (dev71): measures promised over nuclear tests or nuclear arms placed nearby are a military answer.
    ("Герасимов предупредил, что если США возобновят ядерные испытания, Россия примет «соответствующие меры».", "ru"),
    ("У Кремлі пригрозили Гельсінкі «відповідними заходами» через намір дозволити ввезення ядерної зброї.", "uk"),
])
def test_measures_promised_over_nuclear_arms_are_no_sanctions(terms_only, text, lang):
    assert "sanctions" not in themes(terms_only, text, lang)


@pytest.mark.parametrize("text", [
    # Round 30 (dev71): the UN's snapback of Iran's restrictions, getting round restrictions, an entry ban told as
    # "закрила в'їзд" (31 dev passages, all sanctions).
    "Snapback спрацював: обмеження ООН проти Ірану повертаються.",
    "Без мікроелектроніки РФ ракет не зробить, тож тиснути треба на тих, хто дістає деталі в обхід обмежень.",
    "Литва закрила в'їзд для 11 представників грузинської влади.",
])
def test_snapback_evasion_and_entry_bans_are_sanctions(terms_only, text):
    assert "sanctions" in themes(terms_only, text, "uk")


@pytest.mark.parametrize("text, lang", [
    # Round 30 (dev71): "Russia has something to answer with" (seven dev passages, all threats).
    ("Шойгу заявив, що Росії є чим відповісти на постачання снарядів зі збідненим ураном.", "uk"),
    ("Хренин заявил, что Минску есть чем ответить на милитаризацию соседей.", "ru"),
])
def test_having_something_to_answer_with_is_a_threat(terms_only, text, lang):
    assert "escalation" in themes(terms_only, text, lang)


def test_restrictive_measures_on_a_nuclear_industry_are_still_sanctions(terms_only):
    # Round 30: the exclusion above reads only the answering measures ("соответствующие", "appropriate"); measures
    # the EU puts on Russia's nuclear industry keep their theme without the word "sanctions".
    text = "The EU adopted restrictive measures on Rosatom, Russia's nuclear fuel supplier, and its subsidiaries."
    assert "sanctions" in themes(terms_only, text, "en")


def test_the_avangard_plant_on_a_sanctions_list_is_no_escalation(terms_only):
    # Round 30 (dev72): the Avangard machine-building plant whose assets Japan froze, not the glide vehicle.
    text = "Японія заморозить активи корпорації «Іркут» і МЗС «Авангард» та розширить свій чорний список."
    assert "escalation" not in themes(terms_only, text, "uk")


def test_nato_rehearsing_a_blockade_of_kaliningrad_is_escalation(terms_only):
    # Round 30 (dev70, dev71): "blocking" Kaliningrad in a Russian diplomat's warning, not only "блокада".
    text = "Грушко заявил, что альянс на учениях НАТО отрабатывает блокирование Калининградской области."
    assert "escalation" in themes(terms_only, text, "ru")


def test_the_ban_on_striking_russia_said_in_russian_is_no_sanctions(terms_only):
    # Round 30 (dev73): "снять запрет на удары западным оружием вглубь РФ", the Russian of round 29's Ukrainian case.
    text = "Посол заявил, что Копенгаген призывал союзников снять запрет на удары западным оружием вглубь РФ."
    assert "sanctions" not in themes(terms_only, text, "ru")


def test_a_wrecked_tanker_needs_the_models_caution_bar_for_sanctions(rules):
    # Round 30 (dev74, dev75): the Volgoneft tankers broken by a storm in the Kerch Strait, which the model alone
    # read as sanctions at 0.70-0.94; a tanker wrecked or spilling oil is a caution context now.
    text = ("Після катастрофи танкерів «Волгонефть» 15 грудня 2024 року в Чорне море витекло близько 40% із 9,2 тис. т "
            "мазуту, що був на борту. МНС Росії повідомило, що з пляжів Краснодарського краю вже зібрали 3,3 тис. т "
            "забрудненого ґрунту, а нафтопродукти вкрили приблизно 50 км узбережжя.")
    assert "sanctions" not in themes(rules, text, "uk")


def test_limits_on_donated_weapons_eased_are_no_sanctions(terms_only):
    # Round 30 (dev75): "послаблення обмежень на західну зброю" is the use of donated weapons, not a sanction.
    text = "Володін написав, що послаблення обмежень на західну зброю для України обернеться війною."
    assert "sanctions" not in themes(terms_only, text, "uk")


def test_a_direct_clash_the_speaker_wants_to_avoid_is_no_threat_on_the_terms(terms_only):
    # Round 30 (dev75): avoiding a direct military clash is the opposite of threatening one.
    text = "Лавров погодився з відповідальним підходом США, які прагнуть уникнути прямого військового зіткнення з Росією."
    assert "escalation" not in themes(terms_only, text, "uk")


def test_military_technical_countermeasures_in_any_order_are_escalation_not_sanctions(terms_only):
    # Round 31 (dev76): the "military-technical" formula with any word for measures and in any order.
    text = "The ambassador said Moscow would decide on the military-technical countermeasures it needs."
    assert themes(terms_only, text, "en") == {"escalation"}
    text = "Посол сказал, что Москва ответит мерами военно-технического свойства."
    assert themes(terms_only, text, "ru") == {"escalation"}


def test_measures_answering_joint_naval_drills_are_escalation_not_sanctions(terms_only):
    # Round 31 (dev76): "ответные меры" promised over another state's exercises are a military answer.
    text = "МИД предупредил Токио, что Москва примет ответные меры, если Япония расширит совместные учения с США."
    assert themes(terms_only, text, "ru") == {"escalation"}


def test_an_advertised_weapon_near_a_name_alone_is_no_threat_on_the_terms(terms_only):
    # Round 31 (dev77): a missile shown at a parade in Moscow, or a test gone wrong, with no threat said.
    text = "Историк допустил, что на параде в Москве могут провезти и ракету «Орешник»."
    assert "escalation" not in themes(terms_only, text, "ru")


def test_mobilisation_near_a_name_alone_is_no_threat_on_the_terms(terms_only):
    # Round 31 (dev76): an analyst's estimate or a denial of a new wave, not a threat.
    text = "Stoltenberg said Moscow could mobilise upwards of 200,000 more personnel."
    assert "escalation" not in themes(terms_only, text, "en")


def test_retaliatory_measures_answering_western_missiles_are_escalation_not_sanctions(terms_only):
    # Round 32 (dev78): measures promised after ATACMS strikes are a military answer; retaliation for sanctions
    # stays out of escalation.
    text = "The Defence Ministry promised retaliatory measures after Ukraine fired ATACMS missiles at the region."
    assert themes(terms_only, text, "en") == {"escalation"}
    text = "Moscow promised retaliatory measures against the new EU sanctions on its banks."
    assert "escalation" not in themes(terms_only, text, "en")


def test_the_intermediate_range_missile_moratorium_ended_is_escalation_not_sanctions(terms_only):
    # Round 33 (dev79, dev81): Moscow no longer bound by its self-restraint on deploying intermediate-range missiles.
    text = "МЗС РФ оголосило, що Москва більше не вважає себе зв'язаною самообмеженнями щодо розгортання ракет середньої дальності."
    assert themes(terms_only, text, "uk") == {"escalation"}
    text = "МИД заявил, что условий для сохранения моратория на развёртывание ракет средней дальности больше нет."
    assert themes(terms_only, text, "ru") == {"escalation"}


def test_ukraines_own_limits_on_exporting_timber_and_scrap_are_no_sanctions(terms_only):
    # Round 33 (dev80): the government extended its restrictions on exporting timber and scrap metal.
    text = "Уряд продовжив до кінця року обмеження на вивезення лісу та металобрухту."
    assert "sanctions" not in themes(terms_only, text, "uk")


def test_a_vote_for_putin_in_an_occupied_region_is_no_referendum_on_the_terms(terms_only):
    # Round 34 (dev82): Russia's presidential election carried into occupied Luhansk is an election of a person.
    text = "На окупованій Луганщині за Путіна голосуватимуть три тижні: дострокове голосування почнеться 25 лютого."
    assert "referendum" not in themes(terms_only, text, "uk")


def test_compensating_measures_answering_natos_growth_are_escalation(terms_only):
    # Round 35 (dev83, dev84): Moscow's stock phrase for a military answer to Finland and Sweden joining NATO.
    text = "Рябков предупредил, что Москве придётся принять так называемые компенсирующие меры."
    assert themes(terms_only, text, "ru") == {"escalation"}
    text = "Ryabkov said NATO's new forces on the eastern flank would bring compensatory measures from Moscow."
    assert themes(terms_only, text, "en") == {"escalation"}
    text = "The EU approved compensatory measures for farmers hit by cheap grain imports."
    assert "escalation" not in themes(terms_only, text, "en")


def test_unauthorised_is_no_sanctions_for_the_model(rules):
    # Round 35 (dev84): "несанкционированный" (unauthorised) shares its letters with sanctions; a ship stopped for
    # it is no sanctions item (the model read this at 0.82 before the caution).
    text = "Пограничники задержали судно под либерийским флагом за несанкционированный заход в территориальные воды России."
    assert "sanctions" not in themes(rules, text, "ru")


def test_a_leader_denying_his_army_will_enter_the_war_is_no_threat_for_the_model(rules):
    # Round 35 (dev86): the model read Lukashenko, the army and the war as a threat; he said the opposite.
    text = ("Александр Лукашенко заявил, что белорусская армия не принимает участия в боевых действиях в Украине "
            "и вводить армию туда не станет: необходимости в этом нет.")
    assert "escalation" not in themes(rules, text, "ru")
    # A denial turned by a "but" into a threat keeps the model's reading.
    text = ("Лукашенко заявил, что вводить армию в Украину не станет, но если на Беларусь нападут, ответ будет "
            "немедленным и всеми средствами, включая ядерное оружие.")
    assert "escalation" in themes(rules, text, "ru")


def test_a_plant_readied_for_blowing_up_is_half_a_threats_terms(terms_only):
    # Round 36 (dev88): mining or blowing up the Zaporizhzhia plant, within eight words of its name, is half of
    # escalation's terms, so the model's lower bar decides (three dev passages better, none worse). Shelling that
    # endangers the plant is no such sign.
    text = "Буданов заявил, что российские войска завершили подготовку к подрыву Запорожской АЭС."
    assert terms_score(terms_only, text, "ru", "escalation") == 1
    text = "МАГАТЭ сообщило, что обстрел повредил линию электропередачи Запорожской АЭС."
    assert terms_score(terms_only, text, "ru", "escalation") == 0


def test_a_world_war_weighed_by_a_survey_or_experts_is_no_threat_on_the_terms(terms_only):
    # Round 36 (dev87): a survey's fear of World War III, or experts asked whether one is coming, is no state's
    # threat.
    text = "Three in four people questioned for a global survey said they fear the world is edging closer to World War III."
    assert "escalation" not in themes(terms_only, text, "en")
    text = "Эксперты, опрошенные изданием, не верят, что конфликт перерастёт в третью мировую войну."
    assert "escalation" not in themes(terms_only, text, "ru")
    # A speaker's own warning of one still counts.
    text = "Medvedev warned that the West's plans were pushing the world towards a third world war."
    assert "escalation" in themes(terms_only, text, "en")


def test_authorising_a_round_of_escalation_is_no_sanctions(terms_only):
    # Round 37 (dev90): "санкционировали эскалацию" is authorising a step of war, not a restrictive measure.
    text = "Герасимов заявил, что США и их союзники по НАТО санкционировали очередной виток эскалации."
    assert "sanctions" not in themes(terms_only, text, "ru")
    text = "США санкционировали новые ограничения против российских банков."
    assert "sanctions" in themes(terms_only, text, "ru")


def test_revoking_the_test_ban_treatys_ratification_is_escalation(terms_only):
    # Round 38 (dev91): the treaty by its initials, and "revoke" or "undo" for withdrawing a ratification.
    text = "The State Duma passed the bill withdrawing Russia's ratification of the CTBT in its third reading."
    assert "escalation" in themes(terms_only, text, "en")
    text = "Volodin said the Duma would take up revoking the ratification of the CTBT next week."
    assert "escalation" in themes(terms_only, text, "en")
    # Round 47 (dev110): the treaty's full name between the two, which the arms-control exclusion used to read as
    # talk of a treaty rather than a withdrawal from it.
    text = ("The Duma voted to revoke the country's ratification of the Comprehensive Nuclear-Test-Ban Treaty (CTBT), "
            "the global ban on nuclear weapons tests.")
    assert "escalation" in themes(terms_only, text, "en")


def test_a_sport_bodys_ban_on_russian_teams_is_no_sanctions(terms_only):
    # Round 38 (dev92): kept or lifted, a sport body's ban is no state's measure.
    text = ("Спортивный арбитражный суд оставил в силе запрет для российских клубов выступать в турнирах УЕФА, "
            "а ответа на ходатайство о снятии обеспечительных мер ждут до конца недели.")
    assert "sanctions" not in themes(terms_only, text, "ru")


def test_restrictions_on_striking_with_long_range_weapons_are_no_sanctions(terms_only):
    # Round 38 (dev92): the restrictions Washington and London weighed lifting were on Kyiv's strikes.
    text = ("Путин предупредил, что удары западным дальнобойным оружием по России будут означать войну с НАТО; "
            "заявление прозвучало на фоне переговоров Вашингтона и Лондона о снятии ограничений.")
    assert "sanctions" not in themes(terms_only, text, "ru")


def test_mobilisation_told_as_a_cause_of_labour_shortages_is_no_threat(terms_only):
    # Round 38 (dev91): economic news naming partial mobilisation as a drain on the workforce.
    text = "Unemployment fell to a record low as partial mobilisation deepened labour shortages, the central bank said."
    assert "escalation" not in themes(terms_only, text, "en")


def test_soviet_nuclear_tests_recalled_beside_a_vote_on_a_power_plant_are_no_threat(terms_only):
    # Round 38 (dev91): Kazakhstan's referendum on a nuclear power plant, with the Soviet tests as history.
    text = ("Kazakhstan will hold a referendum on building a nuclear power plant, though the legacy of Soviet "
            "nuclear testing still looms over the debate.")
    assert themes(terms_only, text, "en") == {"referendum"}


@pytest.mark.parametrize("text, lang", [
    # Round 39 (dev93, dev94): other states' threats, told in their own words.
    ("The PLA opened two days of exercises around Taiwan, calling them a powerful punishment for separatists.", "en"),
    ("Китай начал учения вокруг Тайваня и назвал их суровым наказанием сторонникам независимости.", "ru"),
    ("Trump said further threats from Pyongyang would be met with fire and fury.", "en"),
    ("Rodong Sinmun warned that a super-mighty preemptive strike would leave US forces in ashes.", "en"),
    ("Газета пообещала, что в случае превентивного удара от американских войск ничего не останется.", "ru"),
    # Round 42 (dev102): other states' threats in their own idiom.
    ("Xi told Biden that whoever plays with fire will perish by it.", "en"),
    ("Khamenei promised severe revenge on the United States.", "en"),
    ("Xi warned that any foreign force trying to bully China would have its head smashed against a great wall of "
     "steel.", "en"),
    # Round 43 (dev103, dev104): other states' threats in Russian and Ukrainian (and the same in English): an army at
    # its highest combat readiness, the Strait of Hormuz to be closed, a country returned to the stone age, and
    # whoever plays with fire burned.
    ("Serbian President Vucic has put the army on the highest level of combat readiness over Kosovo.", "en"),
    ("Вучич привёл сербскую армию в полную боевую готовность.", "ru"),
    ("Вучич наказав підняти збройні сили до найвищого ступеня бойової готовності.", "uk"),
    ("Іранський депутат пригрозив закрити Ормузьку протоку для танкерів.", "uk"),
    ("Иран вновь заговорил о возможном закрытии Ормузского пролива.", "ru"),
    ("Галант: «Ми можемо повернути Ліван у кам'яний вік».", "uk"),
    ("Си Цзиньпин — Байдену: «кто играет с огнём, непременно обожжётся».", "ru"),
    # Round 44 (dev105, dev106): the army at "maximum" or the "highest level" of readiness.
    ("Serbia's armed forces were raised to their top alert level on the president's order for maximum combat "
     "readiness.", "en"),
    ("Вучич ночью поднял армию Сербии до высшего уровня боеготовности.", "ru"),
    # Round 45 (dev107, dev108): Erdoğan's warning to Greece that Turkey "may come suddenly one night".
    ("Erdogan told Greece: \"We can arrive suddenly one night.\"", "en"),
    ("Ердоган знову пригрозив Греції: «Ми можемо раптом прийти однієї ночі».", "uk"),
    ("Эрдоган напомнил Афинам: «однажды ночью мы можем нагрянуть внезапно».", "ru"),
])
def test_other_states_threats_in_their_own_words_carry_escalation_on_the_terms(terms_only, text, lang):
    assert "escalation" in themes(terms_only, text, lang)


def test_a_vow_of_revenge_or_combat_readiness_is_half_a_threat(terms_only):
    # Round 39 (dev93, dev94): half-terms; the model's lower bar decides. Ukrainian "відплата" is left out: it is a
    # trade war's retaliation too.
    assert terms_score(terms_only, "Zarif told state TV that Tehran will take its revenge.", "en", "escalation") == 1
    text = "Вучич приказал привести армию в наивысшую боевую готовность."
    assert terms_score(terms_only, text, "ru", "escalation") == 1
    text = "Трамп заявив, що як відплату розглядає мита на китайську олію."
    assert terms_score(terms_only, text, "uk", "escalation") == 0


@pytest.mark.parametrize("text", [
    # Round 41 (dev97): a parliament's vote of confidence, whose "voted no" and next ballot are no popular vote, and
    # a party's members' ballot on a coalition, with its "No campaign".
    "The chancellor lost the confidence vote in the Bundestag on Monday: 394 deputies voted no, and a snap ballot "
    "is now expected in February.",
    "Party members who cast a ballot approved the coalition agreement by 66 per cent, a defeat for the No campaign "
    "led by the youth wing.",
    # ... a midterm billed as a plebiscite on a presidency, and Russia's presidential vote in the occupied regions.
    "Billed as a make-or-break plebiscite on Milei's presidency, the midterm gave his party 41 per cent.",
    "Early voting in Russia's presidential election began today in the occupied parts of Ukraine, and the "
    "Kremlin-installed head of occupied Zaporizhzhia posted a photo of soldiers at a makeshift polling station.",
    "In occupied villages near Kherson, pensioners were made to vote for Russia's president at ballot boxes carried "
    "from house to house.",
])
def test_votes_of_confidence_party_ballots_and_elections_of_people_are_no_referendum(terms_only, text):
    assert "referendum" not in themes(terms_only, text, "en")


@pytest.mark.parametrize("text", [
    "The occupation authorities opened polling stations in Zaporizhzhia for the so-called referendum on joining "
    "Russia, weeks before Russia's presidential election.",
    "Voters backed the plebiscite on a new constitution by a wide margin.",
    # Round 41 (dev97): Moldova's "constitutional ballot" on Europe, beside the presidential first round.
    "Moldova narrowly said yes to Europe in its constitutional ballot, while the president faces a run-off.",
    # Round 47 (dev110): the result told by its camp, without a word for the vote's kind.
    "Moldova's EU vote passes by a hair: YES wins by just 744 votes on a turnout of about 50%.",
])
def test_popular_votes_beside_elections_of_people_stay_referendums(terms_only, text):
    assert "referendum" in themes(terms_only, text, "en")


def test_a_census_of_crimeas_residents_is_no_referendum_for_the_model(rules):
    # Round 41 (dev97): the model read a census's counts of Crimea's residents as the 2014 vote (0.86-0.91).
    text = ("About 68% of Crimean residents who gave an ethnicity in the October 2014 census called themselves Russian, "
            "15.7% Ukrainian and 10.6% Crimean Tatar; Russians made up 81% in Sevastopol, Rosstat said.")
    assert "referendum" not in themes(rules, text, "en")


@pytest.mark.parametrize("text, lang, theme", [
    # Round 41 (dev98): a named power plant's company ("Akkuyu Nuclear") launching a unit, and a new mobilisation wave
    # answered "there is no such data".
    ("The first unit will be launched in the near future, says Akkuyu Nuclear's chief executive.", "en", "escalation"),
    ("Asked whether a new mobilisation wave is coming, Peskov said there is no such data; the embassy still expects "
     "a fresh call-up.", "en", "escalation"),
    # Round 41 (dev99, dev100), after the retrain was decided: a denial said of a whole country, reports of a general
    # mobilisation called "бред", a sport body's round of sanctions on a football association, and the votes for
    # legislatures and councils in the occupied regions.
    ("Peskov said nobody in Russia is thinking about using nuclear weapons, whatever the speculation in the West.",
     "en", "escalation"),
    ("Песков назвал «бредом» сообщения западных СМИ о том, что 9 мая Путин объявит всеобщую мобилизацию.",
     "ru", "escalation"),
    ("In the same round of sanctions, the national football association was fined and ordered to close part of its "
     "stadium.", "en", "sanctions"),
    ("Voting for regional legislatures and local councils is under way in occupied Donetsk and Kherson, with ballots "
     "carried from house to house.", "en", "referendum"),
    # Round 42 (dev101, dev102): two states pledging never to threaten force, retaliatory tariffs, an entry ban
    # answered "in kind", a state's "nuclear and missile activity" as the cause of sanctions, and Moscow's
    # "countermeasures" to NATO's enlargement read as sanctions.
    ("Venezuela and Guyana pledged never to threaten or use force against each other, and promised not to escalate "
     "in word or deed.", "en", "escalation"),
    ("The two presidents signed a declaration that neither country will threaten or use force against the other.",
     "en", "escalation"),
    ("China slapped retaliatory tariffs on US exports, and farm states will be hit hardest.", "en", "escalation"),
    ("Moscow added EU officials to its entry blacklist, recalling that it had reserved the right to respond in kind.",
     "en", "escalation"),
    ("Tokyo froze the assets of nine individuals after the latest missile launch, citing rising nuclear and missile "
     "activity.", "en", "escalation"),
    ("Defence Minister Shoigu said Russia is taking adequate countermeasures to NATO's bids in the north-west, as "
     "Western pressure mounts.", "en", "sanctions"),
    # Round 44 (dev105, dev106): a poll on ending the war with Russia, an official worried that nuclear weapons might
    # be used, an election that went beyond "a simple referendum on" a choice, a government joining a bloc's package.
    ("52% українців не приймають жодних територіальних поступок заради закінчення війни з Росією, показало опитування.",
     "uk", "escalation"),
    ("52% граждан Украины не приемлют территориальных уступок ради окончания войны с Россией, показал опрос КМИС.",
     "ru", "escalation"),
    ("The chief cabinet secretary said Japan was deeply worried that nuclear weapons might be used in the invasion.",
     "en", "escalation"),
    ("The result went well beyond a simple referendum on Brussels versus Moscow.", "en", "referendum"),
    ("The Swiss Federal Council decided to join the EU's 15th package of restrictions on Russia.", "en", "referendum"),
])
def test_fresh_text_look_alikes_are_not_the_theme_they_resemble_on_the_terms(terms_only, text, lang, theme):
    assert theme not in themes(terms_only, text, lang)


def test_an_oil_price_forecast_on_a_closed_strait_is_no_threat(terms_only):
    # Round 43: the one dev look-alike of the Hormuz closure, an analysts' price forecast.
    text = ("Министр энергетики США не согласился с прогнозами, будто при перекрытии Ормузского пролива баррель может "
            "подскочить до 200 долларов.")
    assert "escalation" not in themes(terms_only, text, "ru")


def test_an_official_who_sees_no_nuclear_escalation_and_no_winners_is_no_threat(terms_only):
    # Round 46 (dev109): "sees no" escalation, and "победителей быть не может" in the order the Kremlin says it.
    text = ("В Кремле заявили, что не видят ядерной эскалации в отношениях Москвы и Вашингтона, и напомнили, что в "
            "ядерной войне победителей быть не может.")
    assert "escalation" not in themes(terms_only, text, "ru")


def test_aggression_that_will_entail_a_harsh_response_is_a_threat(terms_only):
    # Round 47 (dev111): "повлекут жёсткий ответ", the consequence said through the verb that it follows from.
    text = "Захарова предупредила, что любые агрессивные действия против Крыма повлекут жёсткий ответ России."
    assert "escalation" in themes(terms_only, text, "ru")


def test_a_reply_that_will_not_be_purely_diplomatic_is_half_a_threat(terms_only):
    # Round 47 (dev110): the practical part is left unsaid, so the words alone carry half the theme.
    text = "Zakharova said Moscow's reply would not be purely diplomatic."
    assert terms_score(terms_only, text, "en", "escalation") == 1
    text = "Zakharova said Moscow's reply would be purely diplomatic."
    assert terms_score(terms_only, text, "en", "escalation") == 0


def test_local_and_regional_elections_in_occupied_regions_are_no_referendum_for_the_model(rules):
    # Round 47 (dev110): the model read the four regions and their vote share as the 2022 votes (0.94); the elections
    # of people now hold it to its caution bar. (Said "the occupied regions of", the model reads 0.97, above that bar.)
    text = ("Kremlin-backed candidates took more than 70% of the vote in Sunday's local and regional elections in the "
            "war-ravaged Ukrainian regions of Donetsk, Luhansk, Zaporizhzhia and Kherson, according to official Russian "
            "figures.")
    assert "referendum" not in themes(rules, text, "en")


@pytest.mark.parametrize("text, lang", [
    # Round 48 (dev112): the nuclear option named without the word: "absolutely any weapon", "its most terrible
    # weapon", low-yield munitions.
    ("Seizing Crimea would give Moscow grounds to use absolutely any weapon against Kyiv, Medvedev said.", "en"),
    ("Suppose Russia is driven to reach for its most terrible weapon against Kyiv, the ex-president wrote.", "en"),
    ("Kadyrov wrote that it was time to reach for low-yield munitions.", "en"),
    ("Медведев заявил, что попытка захватить Крым даст Москве право применить любое оружие.", "ru"),
    ("Медведєв заявив, що спроба захопити Крим дасть Москві право застосувати будь-яку зброю.", "uk"),
])
def test_the_nuclear_option_named_without_the_word_is_a_threat(terms_only, text, lang):
    assert "escalation" in themes(terms_only, text, lang)


def test_for_good_measure_is_no_measure_against_russia(terms_only):
    # Round 48 (dev112): the idiom's "measure" beside Russia read as a restrictive measure.
    text = ("Putin warned that Moscow would use every means to shield Russia, adding, for good measure, that he was not "
            "bluffing.")
    assert "sanctions" not in themes(terms_only, text, "en")


@pytest.mark.parametrize("text", [
    # Round 49 (dev114): the Kremlin's "nobody is considering" it, and a tariff dispute's retaliation.
    "\"Nobody in Russia is considering the idea of using nuclear weapons,\" the Kremlin's spokesman told PBS.",
    "Trump said EU goods would face 30% duties from August 1 and warned that any European retaliation would be added "
    "on top.",
    # Round 50 (dev116-dev118): "nobody is even contemplating" it, and the tariff named far from the retaliation.
    "The Kremlin's spokesman told PBS that nobody in Russia is even contemplating the idea of using nuclear weapons.",
    # Round 51 (dev119): a global war that "would defy common sense", and the IAEA as the "UN atomic agency".
    "Putin said Moscow has no interest in Latvia, and that drifting into some kind of global war would defy common "
    "sense.",
    "All four of Ukraine's nuclear plants are back on the grid, the UN atomic agency confirmed, after its team stationed "
    "at Zaporizhzhia reported the line restored.",
])
def test_denials_and_tariff_retaliation_are_no_threats(rules, text):
    assert "escalation" not in themes(rules, text, "en")


@pytest.mark.parametrize("text, lang", [
    # Round 49 (dev114): the nuclear button boasted of; half a threat, since a documentary asks who has a finger on it.
    ("Trump told Kim that he has a nuclear button too, much bigger and more powerful, and it works.", "en"),
    ("Кім заявив, що ядерна кнопка завжди на його столі.", "uk"),
])
def test_a_nuclear_button_is_half_a_threat(terms_only, text, lang):
    assert 1 <= terms_score(terms_only, text, lang, "escalation") < 2


@pytest.mark.parametrize("text, lang", [
    # Round 50 (dev116): a country told it may find itself within reach of the speaker's missiles.
    ("Putin told Romanians that by hosting the American missile shield they may find themselves within reach of "
     "Russian rockets.", "en"),
    ("Путин предупредил, что страны, где разместят американские ракеты, окажутся в зоне досягаемости российского "
     "оружия.", "ru"),
])
def test_a_country_told_it_is_within_reach_of_the_missiles_is_threatened(terms_only, text, lang):
    assert "escalation" in themes(terms_only, text, lang)


@pytest.mark.parametrize("text, lang", [
    # Round 51 (dev121): a state that "reserves the right" to retaliate.
    ("Росія «залишає за собою право» на відплату там і тоді, де вважатиме за потрібне.", "uk"),
    ("Moscow reserves the right to retaliate at a time of its choosing, the ministry said.", "en"),
])
def test_a_state_that_reserves_the_right_to_retaliate_is_threatening(terms_only, text, lang):
    assert "escalation" in themes(terms_only, text, lang)


def test_nobody_even_thinking_of_it_in_russian_is_a_denial(terms_only):
    # Round 50 (dev118): "никто даже не думает" about nuclear use, said by the Kremlin.
    text = "Песков заверил, что в Москве «никто даже не думает» о применении ядерного оружия."
    assert "escalation" not in themes(terms_only, text, "ru")


# A review of rounds 47-51's terms against ordinary news (2026-12-06): each broad term or exclusion narrowed, with
# the sentence that showed it. Five dev passages those rounds had won went back to how they were read before.
@pytest.mark.parametrize("text, lang, theme", [
    ("Нарушение новых правил парковки повлечет административную ответственность.", "ru", "escalation"),
    ("Авария на трассе М-4, повлекшая тяжкие последствия, произошла ночью.", "ru", "escalation"),
    ("Police said the suspect was not carrying any weapons when he was arrested.", "en", "escalation"),
    ("Кулеба заявил, что Украина примет любое оружие, которое партнеры готовы передать.", "ru", "escalation"),
    ("В зоне досягаемости мобильной связи теперь все сёла района.", "ru", "escalation"),
    ("Papua New Guinea completed ratification of the CTBT this week.", "en", "escalation"),
    ("The HIMARS launcher has become Ukraine's most powerful weapon on the southern front.", "en", "escalation"),
    ("Aid workers said there was no camp for the displaced families.", "en", "referendum"),
    ("Nebenzia called the General Assembly vote on the Gaza ceasefire resolution illegitimate, saying the sham voting "
     "ignored the Security Council.", "en", "referendum"),
])
def test_ordinary_news_in_the_words_of_the_reviewed_terms_is_not_the_theme(terms_only, text, lang, theme):
    assert theme not in themes(terms_only, text, lang)


@pytest.mark.parametrize("text, lang", [
    ("Пусть никто не думает, что мы блефуем: Россия применит ядерное оружие для защиты своей территории, заявил "
     "Медведев.", "ru"),
    ("Medvedev warned that Russia would strike the European Union's capitals if Brussels sent troops.", "en"),
])
def test_threats_in_the_words_of_the_reviewed_exclusions_stay_threats(terms_only, text, lang):
    assert "escalation" in themes(terms_only, text, lang)


@pytest.mark.parametrize("text", [
    # Vetoed before the review, which left the threat to the model alone under its raised bar.
    "Sending Western troops to Ukraine would be total insanity, Lavrov said, because Moscow's answer would be nuclear.",
    "The ambassador said the mediation talks were over and that a retaliatory strike on the missile sites was now a "
    "legitimate option.",
])
def test_threats_beside_the_reviewed_denial_and_strike_words_keep_their_terms(terms_only, text):
    assert terms_score(terms_only, text, "en", "escalation") >= 1


def test_a_deputy_ambassador_at_the_un_security_council_is_not_russias_security_council(rules):
    text = ("Speaking at the Security Council, deputy ambassador Robert Wood warned that any Russian use of nuclear "
            "weapons would bring a devastating US response.")
    assert "russian_security_council" not in [e.id for e in rules.classify(text).entities]


# Round 53 (dev123): a blind split of ordinary news (crime, traffic, weather, business, sport, health, local politics).
@pytest.mark.parametrize("text", [
    "France's eight main unions have threatened a strike that would bring the country to a standstill next week.",
    "Unions threatened strikes that would paralyse the country's ports.",
])
def test_unions_threatening_a_strike_is_not_escalation(terms_only, text):
    assert "escalation" not in themes(terms_only, text)


def test_a_threat_to_strike_the_european_union_is_not_taken_for_the_unions_exclusion(rules):
    assert "escalation" in themes(rules, "Medvedev threatened a strike on European Union capitals.")


@pytest.mark.parametrize("text", ["У Слов'янську переобрали мера.", "У Слов’янську переобрали мера.",
                                  "У Словʼянську переобрали мера."])
def test_sloviansk_in_its_locative_and_with_each_apostrophe_is_found(rules, text):
    assert "Sloviansk" in entity_names(rules, text, "uk")


@pytest.mark.parametrize("text", ["Фестиваль присвятили слов'янським мовам і слов'янську культуру.",
                                  "Слов'янська мова стала темою конференції.", "На вулиці Слов'янська сталася пожежа."])
def test_the_adjective_slavic_and_a_street_named_for_it_are_not_sloviansk(rules, text):
    assert "Sloviansk" not in entity_names(rules, text, "uk")


def test_dubai_in_the_ukrainian_locative_is_found(rules):
    assert "United Arab Emirates" in entity_names(rules, "Світоліна виграла турнір у Дубаї.", "uk")


# Round 53 (dev124, a second split of ordinary news): a council's budget put to its vote.
@pytest.mark.parametrize("text", [
    "📋 Crawley cabinet backs 2019/20 budget. Council tax to go up 2.49%, says the Leader; budget leans on income "
    "generation to plug falling govt grants. Next stop: Full Council vote.",
    "Full council will vote on the budget proposals on Thursday; residents were consulted in the autumn.",
])
def test_a_councils_budget_vote_is_not_a_referendum(rules, text):
    assert "referendum" not in themes(rules, text)


@pytest.mark.parametrize("text", [
    "Residents will vote in a council tax referendum after the council proposed a 15% rise.",
    # A review's sentence: Switzerland's government is the Federal Council.
    "Swiss voters on Sunday approved the Federal Council's plan to raise the budget for the army, with 54% in favour.",
])
def test_a_council_tax_referendum_and_a_swiss_vote_on_the_federal_councils_budget_are_referendums(rules, text):
    assert "referendum" in themes(rules, text)


@pytest.mark.parametrize("text, name", [
    ("У Кременчуці поліція затримала шістьох підозрюваних.", "Kremenchuk"),
    ("Франківськ, ніч: двох чоловіків затримали патрульні.", "Ivano-Frankivsk"),
    ("Двох чоловіків затримали патрульні. #ІваноФранківськ", "Ivano-Frankivsk"),
])
def test_ukrainian_city_names_as_ordinary_news_writes_them_are_found(rules, text, name):
    assert name in entity_names(rules, text, "uk")


@pytest.mark.parametrize("text", ["У Франківському районі Львова суми компенсацій зросли.",
                                  "Франківська районна адміністрація Львова оголосила конкурс.",
                                  "Суми виплат ВПО зростуть з 1 березня."])
def test_sums_of_money_and_lvivs_frankivskyi_district_are_not_cities(rules, text):
    assert not entity_names(rules, text, "uk") & {"Sumy", "Ivano-Frankivsk"}


# Round 54 (dev125-dev126): a world war that surveys' respondents fear, and a nuclear war that books tell.
@pytest.mark.parametrize("text, lang", [
    ("📊 POLL | Allensbach for FAS: 26% of Germans now think a new world war is possible (2000: just 13%).", "en"),
    ("📚 BOOK TIP of the week: 'Nuclear War – A Scenario' by Annie Jacobsen, from the first launch to a world on the "
     "brink in 72 minutes.", "en"),
    ("New Scientist рецензирует книгу Энни Джейкобсен «Ядерная война: сценарий» — пугающую реконструкцию первых минут.",
     "ru"),
])
def test_a_world_war_feared_in_a_survey_or_a_nuclear_war_told_in_a_book_is_not_escalation(rules, text, lang):
    assert "escalation" not in themes(rules, text, lang)


@pytest.mark.parametrize("text, lang", [
    ("Medvedev threatened to use nuclear weapons; a Levada survey shows most Russians fear a nuclear war.", "en"),
    ("Медведев пригрозил применить ядерное оружие, а опрос ВЦИОМ показал, что россияне боятся ядерной войны.", "ru"),
    ("In a new documentary, Putin warned that Russia would use nuclear weapons if its sovereignty were threatened.",
     "en"),
    ("Писатель Захар Прилепин призвал нанести ядерный удар по Лондону.", "ru"),
])
def test_a_threat_beside_a_survey_a_documentary_or_a_writer_stays_a_threat(rules, text, lang):
    assert "escalation" in themes(rules, text, lang)


# A review of rounds 53-55's terms: threats told beside a survey in the survey's own words, which is why a nuclear
# strike feared in a survey is left to be a false alarm.
@pytest.mark.parametrize("text, lang", [
    ("Medvedev threatened to use nuclear weapons; a Levada survey shows most Russians fear a nuclear war.", "en"),
    ("Медведев пригрозил применить ядерное оружие, а опрос ВЦИОМ показал, что россияне боятся ядерной войны.", "ru"),
    ("The Russian embassy said any Tomahawk launch would be treated as a nuclear attack; a survey by Forsa found most "
     "Germans back the delivery.", "en"),
    ("Депутат Госдумы Гурулев предложил нанести ядерный удар по Лондону. По данным опроса «Левада-центра», такой удар "
     "поддерживают 30% россиян.", "ru"),
])
def test_a_threat_beside_a_survey_keeps_its_nuclear_terms(terms_only, text, lang):
    assert terms_score(terms_only, text, lang, "escalation") >= 2


@pytest.mark.parametrize("text, lang", [
    ("Medvedev threatened a third world war, while Levada found most Russians calm.", "en"),
    ("Медведев пригрозил третьей мировой войной, а ВЦИОМ выяснил, что россияне спокойны.", "ru"),
    ("Medvedev threatened in a new book that nuclear weapons would be used against Kyiv.", "en"),
])
def test_a_threat_beside_a_named_pollster_or_a_book_keeps_its_terms(terms_only, text, lang):
    assert terms_score(terms_only, text, lang, "escalation") >= 4


# Round 54: North Korea's "sea of fire", and missiles "not for display" kept for a named enemy.
@pytest.mark.parametrize("text, lang", [
    ("Пхеньян пригрозил превратить Сеул в «море огня».", "ru"),
    ("Пхеньян через свой комитет мира пообещал устроить Америке «море пламени», если Вашингтон не отступит.", "ru"),
    ("'Our nuclear missiles are not for decoration – they were made for India,' Pakistan's railways minister said.",
     "en"),
])
def test_a_sea_of_fire_and_missiles_not_for_display_are_threats_on_the_terms(terms_only, text, lang):
    assert "escalation" in themes(terms_only, text, lang)


@pytest.mark.parametrize("text, lang", [
    ("Firefighters battled through the night as the hillside turned into a sea of fire.", "en"),
    ("Болельщики зажгли фаеры, и трибуна превратилась в море огня.", "ru"),
    ("После удара дронов НПЗ превратился в море огня, сообщил губернатор.", "ru"),
    ("Fireworks turned the night sky over the harbour into a sea of fire.", "en"),
    ("The museum says the items are not for display until the new wing opens.", "en"),
    # A review's sentences: blazes told without the Koreas, a racket, air defence's missiles.
    ("A warehouse in Shanghai became a sea of flames overnight; three workers died.", "en"),
    ("ДТП с бензовозом на трассе М-4: дорога превратилась в море огня.", "ru"),
    ("Після удару російських дронів ринок у Харкові перетворився на море вогню.", "uk"),
    ("Тенісна ракетка не для краси: як обрати першу ракетку для дитини.", "uk"),
    ("Зеленський: ракети Patriot не для параду — вони щоночі захищають наші міста.", "uk"),
])
def test_a_blaze_called_a_sea_of_fire_and_exhibits_not_for_display_are_not_escalation(rules, text, lang):
    assert "escalation" not in themes(rules, text, lang)


# Round 55 (dev127): treaties of friendship with the "republics" Moscow had just recognised took in no territory.
@pytest.mark.parametrize("text, lang", [
    ("Госдума ратифицировала договоры о дружбе, сотрудничестве и взаимопомощи с Донецкой и Луганской народными "
     "республиками.", "ru"),
    ("The Duma ratified friendship treaties with the two breakaway republics a day after Putin recognised them.", "en"),
])
def test_friendship_treaties_with_the_recognised_republics_are_not_an_annexation(rules, text, lang):
    assert "referendum" not in themes(rules, text, lang)


def test_the_accession_treaties_ratified_are_still_an_annexation(rules):
    text = "Госдума ратифицировала договоры о принятии ДНР, ЛНР, Запорожской и Херсонской областей в состав России."
    assert "referendum" in themes(rules, text, "ru")


# Telegram writes multi-word hashtags with underscores: their words match as the words of the text do.
def test_a_place_and_a_threat_written_as_underscore_hashtags_are_found(rules):
    result = rules.classify("🔴 Обстріл #Кривий_Ріг: Медведєв знову погрожує, #ядерний_шантаж", lang="uk")
    assert "Kryvyi Rih" in {e.name for e in result.entities}
    assert "escalation" in {h.theme for h in result.themes}


# Round 56 (dev128): Rivne by its Ukrainian name, whose lemma is the adjective "рівний" (even, flat).
@pytest.mark.parametrize("text", ["Вода стояла в Рівному, Звягелі й Шаргороді.", "Рівне прийняло півфінал кубка.",
                                  "Індустріальний парк на Рівненщині дасть 1400 робочих місць."])
def test_rivne_in_its_cases_and_its_region_is_found(rules, text):
    assert "Rivne" in entity_names(rules, text, "uk")


def test_an_even_road_and_a_flat_field_are_not_rivne(rules):
    text = "Дорога має рівне покриття, а поле за нею рівне й сухе; на рівному місці впав велосипедист."
    assert "Rivne" not in entity_names(rules, text, "uk")


# Round 57 (dev129, the news of 2025-2026): arms control told as history and counts, a leader who wants no
# escalation, and a day against nuclear tests are no threat; arms limitation is no sanction.
@pytest.mark.parametrize("text, lang", [
    ("Signed in Prague in 2010 by Obama and Medvedev, New START came into force the next year and capped each side "
     "at 1,550 deployed strategic warheads, with inspections to check the numbers.", "en"),
    ("Путин предложил ещё год после 5 февраля добровольно соблюдать количественные лимиты ДСНВ, чтобы не "
     "подстёгивать гонку стратегических вооружений. Договор, подписанный в Праге в 2010 году, — последнее "
     "соглашение, которое ещё ограничивает ядерные арсеналы России и США.", "ru"),
    ("В ООН напомнили, что 29 августа — Международный день действий против ядерных испытаний.", "ru"),
    ("Лукашенко сказал, что его задача — не допустить эскалации, а учения с соседними странами Минск и так "
     "перенёс вглубь страны.", "ru"),
])
def test_arms_control_history_and_a_wish_to_avoid_escalation_are_not_escalation(rules, text, lang):
    assert "escalation" not in themes(rules, text, lang)


def test_a_treaty_limiting_nuclear_arms_is_not_a_sanction(rules):
    text = "Истекает ДСНВ — договор об ограничении ядерных вооружений между Россией и США."
    assert "sanctions" not in themes(rules, text, "ru")


@pytest.mark.parametrize("text, lang", [
    ("После истечения ДСНВ Медведев пригрозил, что Россия нарастит ядерные арсеналы у границ Европы.", "ru"),
    ("Now that New START has lapsed, Medvedev threatened to deploy more nuclear warheads against Europe.", "en"),
])
def test_a_threat_told_beside_the_treaty_and_military_technical_countermeasures_stay_escalation(rules, text, lang):
    assert "escalation" in themes(rules, text, lang)


def test_military_technical_countermeasures_are_a_threat_on_the_terms(terms_only):
    assert "escalation" in themes(terms_only, "В МИД России пообещали решительные военно-технические контрмеры.", "ru")


# An entity whose name holds another's (EntityDef.hides): the shorter name inside it is no mention of its own.
@pytest.mark.parametrize("text, lang, present, absent", [
    ("Kim Jong Un oversaw another missile launch.", "en", "Kim Jong Un", "United Nations"),
    ("Зеленський звернувся до Радбезу ООН.", "uk", "UN Security Council", "Security Council of Russia"),
    ("Росія знову вдарила по Білгороду-Дністровському.", "uk", "Bilhorod-Dnistrovskyi", "Belgorod"),
    ("Окупанти обстріляли Нову Каховку.", "uk", "Nova Kakhovka", "Kakhovka"),
])
def test_a_name_inside_a_longer_name_is_not_mentioned_on_its_own(rules, text, lang, present, absent):
    names = entity_names(rules, text, lang)
    assert present in names and absent not in names


def test_the_shorter_names_are_still_found_on_their_own(rules):
    names = entity_names(rules, "Бєлгород і Каховка під обстрілом; ООН закликала до стриманості; "
                                "зампред Радбезу Медведєв погрожує.", "uk")
    assert {"Belgorod", "Kakhovka", "United Nations", "Security Council of Russia"} <= names


# A review of round 57's changes: each narrowed so that these threats and sanctions keep their own terms.
@pytest.mark.parametrize("text, lang", [
    ("The NPT review conference in New York closed without a final text, and the Russian delegation said Moscow "
     "would station nuclear weapons in Belarus, close to the Polish border, before the summer.", "en"),
    ("There is no ceiling on Russia's nuclear options in Belarus, the Belarusian defence minister said.", "en"),
    ("Накануне МИД России предупредил, что Москва всегда готова к военно-техническим контрмерам против "
     "потенциальных угроз своей безопасности.", "ru"),
])
def test_threats_beside_the_words_of_round_57s_exclusions_keep_their_terms(terms_only, text, lang):
    assert "escalation" in themes(terms_only, text, lang)


@pytest.mark.parametrize("text, lang", [
    ("With no cap on nuclear warheads any more, the general said, Russia would put them on the Finnish border.", "en"),
    ("Russia will no longer avoid escalation if NATO jets keep crossing into its airspace, Peskov said.", "en"),
    ("Песков: Россия не будет избегать эскалации, если НАТО продолжит полёты у её границ.", "ru"),
])
def test_the_exclusions_of_caps_and_avoided_escalation_veto_nothing_in_threats_of_no_cap_and_no_more_avoiding(
        rules, text, lang):
    # Round 57's exclusions ("capped each side", "не допустить эскалации") must not read these threats. No term carries
    # them: the model did, at 0.51-0.79, until the retrain of round 62, which reads two of the three under its bar
    # (docs/quality.md, round sixty-two). What the exclusions decide is whether a term is vetoed here: none may be.
    a = rules.analyse(text, lang)
    escalation = rules.theme_index("escalation")
    assert not [ti for ti in a.term_vetoed if rules.tables.terms[ti].theme == escalation]


def test_a_threat_to_no_longer_avoid_escalation_is_read_as_one(rules):
    text = "Russia will no longer avoid escalation if NATO jets keep crossing into its airspace, Peskov said."
    assert "escalation" in themes(rules, text, "en")


@pytest.mark.parametrize("text, lang", [
    ("Украинские инженеры разработали военно-технические контрмеры против «Шахедов»: мобильные группы РЭБ.", "ru"),
    ("Українські інженери розробили військово-технічні контрзаходи проти «Шахедів».", "uk"),
])
def test_countermeasures_engineers_build_against_drones_are_not_a_threat(terms_only, text, lang):
    assert "escalation" not in themes(terms_only, text, lang)


@pytest.mark.parametrize("text", [
    "Минфин США ввёл ограничения против поставщиков компонентов для стратегических вооружений России.",
    "В ответ на выход России из ДСНВ Вашингтон ввёл ограничения против её оборонных предприятий.",
])
def test_sanctions_beside_strategic_arms_and_the_treaty_keep_their_terms(terms_only, text):
    assert "sanctions" in themes(terms_only, text, "ru")


def test_russias_seat_on_the_security_council_is_the_uns_council(rules):
    text = "Russia's Security Council veto blocked the resolution on a Gaza ceasefire for the third time."
    assert "UN Security Council" in entity_names(rules, text, "en")


# Round 58 (dev130): nuclear safety in the Ukrainian locative ("безпеці"), Ukraine's strikes on the "legitimate targets
# of the aggressor state", and a club's ultras warning of "new sanctions" are no threat and no sanction.
@pytest.mark.parametrize("text, lang, theme", [
    ("Окупація ЗАЕС — серйозна загроза ядерній безпеці, заявив глава МЗС Нової Зеландії.", "uk", "escalation"),
    ("У СБУ заявили, що операції ведуться лише проти законних цілей держави-агресора.", "uk", "escalation"),
    ("В СБУ заверили, что операции ведутся только против законных целей государства-агрессора.", "ru", "escalation"),
    ("Ультрас клубу попередили керівництво, що без діалогу ситуація може обернутися новими санкціями для команди.",
     "uk", "sanctions"),
])
def test_nuclear_safety_strikes_on_the_aggressor_and_ultras_sanctions_are_not_themes(terms_only, text, lang, theme):
    assert theme not in themes(terms_only, text, lang)


def test_legitimate_targets_named_by_russia_stay_a_threat(terms_only):
    text = "Russia called Western instructors legitimate targets, accusing the aggressor bloc of NATO."
    assert "escalation" in themes(terms_only, text, "en")


@pytest.mark.parametrize("text, name", [("Вибухи пролунали в Каховці.", "Kakhovka"),
                                        ("У Новій Каховці знеструмлено підстанцію.", "Nova Kakhovka")])
def test_kakhovka_and_nova_kakhovka_in_the_ukrainian_locative_are_found(rules, text, name):
    assert name in entity_names(rules, text, "uk")


# Round 59: the places, people and organisations the labellers named most that the gazetteer lacked.
@pytest.mark.parametrize("text, lang, name", [
    ("Тайвань сообщил о 30 самолётах НОАК у острова.", "ru", "Taiwan"),
    ("Пашинян і Алієв зустрілися в Абу-Дабі; Вірменія та Азербайджан парафували мирну угоду.", "uk", "Armenia"),
    ("Переговоры прошли в Баку.", "ru", "Azerbaijan"),
    ("Chileans turned down the new constitution in Sunday's plebiscite.", "en", "Chile"),
    ("Израиль нанёс удары по югу Ливана.", "ru", "Lebanon"),
    ("Росія пригрозила «новою Кубою», якщо США передадуть Tomahawk.", "uk", "Cuba"),
    ("Грушко: Россия ответит на усиление НАТО на Балтике.", "ru", "Baltic Sea"),
    ("Grushko said the Baltic states were turning the region into a frontline.", "en", "Baltic states"),
    ("Кім Йо Чжон пригрозила «жорсткими контрзаходами».", "uk", "Kim Yo Jong"),
    ("Эксперты ISW отметили рост активности у границ Финляндии.", "ru", "Institute for the Study of War"),
    ("КСИР пригрозил закрыть Ормузский пролив.", "ru", "Islamic Revolutionary Guard Corps"),
    ("Лукашенко предложил Казахстану вступить в Союзное государство.", "ru", "Union State"),
    ("Путин выступил на Валдайском форуме.", "ru", "Valdai Discussion Club"),
    ("Fighting continued across Kherson Oblast overnight.", "en", "Kherson"),
    ("The Russian Ministry of Defence claimed the capture of two villages.", "en", "Russian Defence Ministry"),
])
def test_the_entities_added_in_round_59_are_found(rules, text, lang, name):
    assert name in entity_names(rules, text, lang)


@pytest.mark.parametrize("text, lang, name", [
    ("Сміттєві баки на вулиці знову переповнені; бак для пального вкрали.", "uk", "Azerbaijan"),
    ("Тренер Ливанов назвал состав сборной на сезон.", "ru", "Lebanon"),
    ("Детям дали кубы и пирамидки; перец чили добавьте в конце.", "ru", "Cuba"),
    ("Детям дали кубы и пирамидки; перец чили добавьте в конце.", "ru", "Chile"),
    ("Лидеры союзные государства обсудили поставки оружия Киеву.", "ru", "Union State"),
    ("Депутаты говорили о единстве России и её регионов.", "ru", "United Russia"),
])
def test_the_words_the_round_59_entities_resemble_are_not_them(rules, text, lang, name):
    assert name not in entity_names(rules, text, lang)


@pytest.mark.parametrize("text, lang, name", [
    ("НАБУ повідомило про підозру заступнику міністра.", "uk", "National Anti-Corruption Bureau of Ukraine"),
    ("Кабмін ухвалив постанову про бронювання.", "uk", "Cabinet of Ministers of Ukraine"),
    ("Картаполов, глава комитета Госдумы по обороне, пригрозил Литве.", "ru", "State Duma Defence Committee"),
    ("Генассамблея ООН приняла резолюцию.", "ru", "UN General Assembly"),
    ("Хуситы пообещали атаковать суда в Красном море.", "ru", "Houthis"),
    ("Маневри у Фінській затоці тривали три дні.", "uk", "Gulf of Finland"),
    ("The New York Times reported the strike.", "en", "The New York Times"),
    ("Илон Маск отключил Starlink над Крымом.", "ru", "Elon Musk"),
])
def test_the_second_batch_of_round_59_entities_is_found(rules, text, lang, name):
    assert name in entity_names(rules, text, lang)


@pytest.mark.parametrize("text, lang, name", [
    ("Нові правила набули чинності 1 січня.", "uk", "National Anti-Corruption Bureau of Ukraine"),
    ("В аптеках снова появились медицинские маски; маскировка не помогла.", "ru", "Elon Musk"),
    ("The New York Times reported the strike.", "en", "New York"),
])
def test_words_like_the_second_batch_of_round_59_entities_are_not_them(rules, text, lang, name):
    assert name not in entity_names(rules, text, lang)


# A review of both batches: the words the new variants took for the entities before they were narrowed.
@pytest.mark.parametrize("text, lang, name", [
    ("Из раны сочила кровь, смола сочит из трещин.", "ru", "Sochi"),
    ("Пивоваренная компания «Балтика» перешла под управление Росимущества.", "ru", "Baltic Sea"),
    ("В области вспышка сибирской язвы; в Україні спалах сибірської виразки.", "ru", "Siberia"),
    ("В Чернигове мороз до минус двадцати.", "ru", "Black Sea"),
    ("В Советском районе Казани отключили воду; газета «Советская Россия» вышла.", "ru", "Soviet Union"),
    ("Сообщили об атаке на резиденцию Путина на Валдае.", "ru", "Valdai Discussion Club"),
    ("Кабмин Японии одобрил бюджет.", "ru", "Cabinet of Ministers of Ukraine"),
    ("Сегодня офис президента Франции опроверг слухи.", "ru", "Office of the President of Ukraine"),
    ("Служба внешней разведки Украины сообщила о планах Москвы.", "ru", "Foreign Intelligence Service of Russia"),
    ("Журналист Евгений Киселев выступил в эфире.", "ru", "Dmitry Kiselyov"),
    ("Его направили на экспертизу в центр Сербского; депутат Сергей Сербин выступил.", "ru", "Serbia"),
    ("Дрон атаковал завод в Армянске.", "ru", "Armenia"),
    ("Путин: нам нужна сильная и единая Россия.", "ru", "United Russia"),
    ("The perfume contains musk and amber.", "en", "Elon Musk"),
])
def test_words_the_new_entities_resemble_are_not_them(rules, text, lang, name):
    assert name not in entity_names(rules, text, lang)


# Round 60 (dev132), narrowed after a review of ~220 sentences. A nuclear arsenal counted, kept or given up is half a
# term: alone it is no threat.
@pytest.mark.parametrize("text, lang", [
    ("China's nuclear arsenal is expected to exceed 1,000 warheads by 2030, according to a Pentagon report.", "en"),
    ("Франция тратит на содержание ядерного арсенала около пяти миллиардов евро в год.", "ru"),
    ("Україна відмовилася від третього за величиною ядерного арсеналу у світі в 1994 році.", "uk"),
])
def test_a_nuclear_arsenal_counted_or_kept_is_no_threat_alone(terms_only, text, lang):
    assert "escalation" not in themes(terms_only, text, lang)


@pytest.mark.parametrize("text, lang", [
    ("Stationing NATO troops in Ukraine will mean war, the Russian ambassador told Danish television.", "en"),
    ("Beijing warned again that Taiwan independence means war.", "en"),
    ("Это будет война, и виноват будет Лондон, заявил Медведев о конфискации активов.", "ru"),
    ("Китай попередив, що незалежність Тайваню означає війну.", "uk"),
])
def test_a_step_a_state_says_means_war_is_a_threat(terms_only, text, lang):
    assert "escalation" in themes(terms_only, text, lang)


@pytest.mark.parametrize("text, lang", [
    ("Walmart's new price cut means war with Amazon, retail analysts say.", "en"),
    ("In 1962, Kennedy believed a Soviet missile base in Cuba would mean war.", "en"),
    ("Для ритейла это будет война цен, предупреждают аналитики.", "ru"),
    ("Це буде війна нервів, каже політолог.", "uk"),
    ("Експерт вважає, що навряд чи постачання F-16 означатиме війну.", "uk"),
    ("Під час саміту лідери заявили, що на Корейському півострові більше не буде війни.", "uk"),
])
def test_a_price_war_a_war_of_nerves_history_and_doubts_are_no_threat(terms_only, text, lang):
    assert "escalation" not in themes(terms_only, text, lang)


@pytest.mark.parametrize("text, lang", [
    ('"If Europe wants to start a war, we are ready right now," Putin told reporters.', "en"),
    ("Путин: если Европа захочет воевать, мы готовы прямо сейчас.", "ru"),
    ("Кім Чен Ин: якщо США розв'яжуть війну, КНДР готова до всього.", "uk"),
])
def test_a_side_ready_for_the_war_another_would_start_threatens(terms_only, text, lang):
    assert "escalation" in themes(terms_only, text, lang)


@pytest.mark.parametrize("text, lang", [
    ("Никто не хочет войны, мы готовы к переговорам, заявил Эрдоган.", "ru"),
    ("Опитування: більшість європейців не готові воювати, якщо Росія почне війну.", "uk"),
    ("Ukraine does not want war, it is ready for a ceasefire, Zelensky said.", "en"),
    ("Amazon is ready to start a war on prices with Temu, analysts say.", "en"),
])
def test_nobody_wanting_war_not_being_ready_and_price_wars_are_no_threat(terms_only, text, lang):
    assert "escalation" not in themes(terms_only, text, lang)


def test_a_unions_warning_strike_is_a_labour_dispute(terms_only):
    text = "Germany's train drivers' union GDL called a 20-hour warning strike and threatened to escalate the pay dispute."
    assert "escalation" not in themes(terms_only, text, "en")


def test_a_military_warning_strike_stays_a_threat(rules):
    text = "Russian military bloggers demanded a warning strike on Rzeszow airport, NATO's hub for Ukraine aid."
    assert "escalation" in themes(rules, text, "en")


def test_beijings_warning_to_taiwan_independence_is_no_referendum(terms_only):
    text = "China launched drills around Taiwan as a strict warning against Taiwanese independence."
    assert "referendum" not in themes(terms_only, text, "en")


@pytest.mark.parametrize("text, lang", [
    ("Beijing warned that any ballot on Taiwanese independence would be treated as secession.", "en"),
    ("Пекин заявил, что любое голосование о независимости Тайваня будет незаконным.", "ru"),
])
def test_a_vote_on_taiwan_independence_stays_a_referendum(terms_only, text, lang):
    assert "referendum" in themes(terms_only, text, lang)


@pytest.mark.parametrize("text", [
    "Россия заморозила переговоры с Японией по мирному договору.",
    "Россия готова ещё год соблюдать центральные ограничения договора, если США ответят тем же.",
])
def test_talks_frozen_and_a_treatys_own_limits_are_no_sanctions(terms_only, text):
    assert "sanctions" not in themes(terms_only, text, "ru")


@pytest.mark.parametrize("text, lang", [
    ("EU leaders resumed talks on using frozen Russian assets to fund a reparations loan for Ukraine.", "en"),
    ("Экспортные ограничения договорились расширить на российские алюминий и никель.", "ru"),
])
def test_talks_on_frozen_assets_and_restrictions_agreed_stay_sanctions(terms_only, text, lang):
    assert "sanctions" in themes(terms_only, text, lang)


# Round 61 (dev133): a strait said not to have been closed is no threat (not ruling a closure out stays one), and New
# START's own limits named right before the treaty are no sanctions.
@pytest.mark.parametrize("text, lang", [
    ("Иран не закрывал Ормузский пролив и регулирует проход судов, заверил Хейдари.", "ru"),
    ("Іран не закривав Ормузьку протоку, заявив командувач.", "uk"),
    ("Iran did not close the Strait of Hormuz, the navy said, and ships pass under international rules.", "en"),
])
def test_a_strait_said_not_to_have_been_closed_is_no_threat(terms_only, text, lang):
    assert "escalation" not in themes(terms_only, text, lang)


def test_not_ruling_out_closing_hormuz_stays_a_threat(terms_only):
    text = "Иран не исключил закрытия Ормузского пролива в случае удара по своим объектам."
    assert "escalation" in themes(terms_only, text, "ru")


def test_new_starts_own_limits_are_no_sanctions(terms_only):
    text = "Рябков: Москва готова ещё год соблюдать ограничения ДСНВ, если Вашингтон ответит тем же."
    assert "sanctions" not in themes(terms_only, text, "ru")


# Round 63 (dev135): a party's members' ballot whose camps are told far from the coalition it decides is no referendum.
def test_a_party_members_ballot_told_at_length_is_no_referendum(terms_only):
    text = ("Some 463,723 SPD members were eligible to vote on rejoining a grand coalition with the CDU and CSU, and the "
            "party's treasurer announced on Sunday morning that 66.02% said yes. The acting party leader thanked members, "
            "while the Young Socialists' chief, who led the no campaign, admitted his disappointment.")
    assert "referendum" not in themes(terms_only, text, "en")


# Round 64 (dev136, dev137): a sanctioning state's designations, an election called a referendum on the president, a
# parliament ratifying a statute signed long before, the army's "forces and means"; and what a review kept out.
def test_a_sanctioning_states_designations_aimed_at_russia_are_sanctions(terms_only):
    text = ("The UK announced 92 new designations aimed at Russian state banks and at the organisers of the votes "
            "in occupied Ukraine.")
    assert "sanctions" in themes(terms_only, text, "en")


@pytest.mark.parametrize("text", [
    "Ireland's national parks service welcomed the UK designations of two new marine reserves.",
    "The wine won protected designations of origin in the EU and in the UK last year.",
])
def test_designations_of_parks_and_wines_are_no_sanctions(terms_only, text):
    assert "sanctions" not in themes(terms_only, text, "en")


@pytest.mark.parametrize("text, lang", [
    ("Промежуточные выборы в США принято считать референдумом по президенту: его имени в бюллетене нет.", "ru"),
    ("Місцеві вибори в США назвали референдумом щодо Трампа, і республіканці їх програли.", "uk"),
])
def test_an_election_called_a_referendum_on_the_president_is_no_referendum(rules, text, lang):
    assert "referendum" not in themes(rules, text, lang)


def test_a_referendum_on_a_presidential_form_of_government_stays_one(rules):
    text = "В Киргизии прошёл референдум по президентской форме правления: за высказались 81% избирателей."
    assert "referendum" in themes(rules, text, "ru")


def test_a_parliament_ratifying_a_statute_signed_long_before_is_no_referendum(terms_only):
    text = ("Armenia's National Assembly voted 60 to 22 to ratify the Rome Statute of the International Criminal "
            "Court, which the country had signed in 1999 but never ratified; two opposition factions voted no.")
    assert "referendum" not in themes(terms_only, text, "en")


def test_accession_treaties_ratified_against_the_un_charter_stay_a_referendum(terms_only):
    text = "The Duma ratified the accession treaties of the four regions, in violation of the UN Charter, Kyiv said."
    assert "referendum" in themes(terms_only, text, "en")


def test_forces_and_means_of_an_exercise_are_no_frozen_funds(terms_only):
    text = ("Грушко: на учениях НАТО отрабатываются сценарии блокирования Калининградской области, а регион "
            "накачивают силами и средствами альянса.")
    assert "sanctions" not in themes(terms_only, text, "ru")


# Round 66 (dev138): a planned vote on joining Russia that Kyiv calls "elections" in quotes, an election turned into a
# referendum on a leader, a union's so-called strike ballot; and what a review kept out.
def test_a_vote_on_joining_russia_called_elections_by_kyiv_stays_a_referendum(terms_only):
    text = ("Стремоусов сообщил, что задуманное голосование о присоединении к России откладывается из соображений "
            "безопасности: мост стал непроезжим, на юге началось контрнаступление. Вице-премьер Украины призвала "
            "жителей уезжать и предупредила, что участникам таких «выборов» грозит уголовное преследование.")
    assert "referendum" in themes(terms_only, text, "ru")


def test_an_election_near_independence_square_is_no_referendum(terms_only):
    text = ("Long queues formed at polling stations on Independence Square as Ukrainians voted in the presidential "
            "election, officials said.")
    assert "referendum" not in themes(terms_only, text, "en")


@pytest.mark.parametrize("text", [
    "Trump has turned the midterms into a referendum on himself, and the polls suggest he may lose the House.",
    "Netanyahu has turned every election since 2019 into a plebiscite on himself, analysts say.",
])
def test_an_election_turned_into_a_referendum_on_a_leader_is_no_referendum(rules, text):
    assert "referendum" not in themes(rules, text, "en")


def test_a_real_referendum_turned_into_a_vote_on_its_leader_stays_one(rules):
    text = "Renzi turned the 2016 constitutional referendum into a referendum on himself and resigned after losing it."
    assert "referendum" in themes(rules, text, "en")


def test_a_unions_so_called_strike_ballot_is_no_referendum(terms_only):
    text = ("Before an all-out strike, the chemical workers' union polls its members in a so-called strike ballot, and "
            "75% must say yes.")
    assert "referendum" not in themes(terms_only, text, "en")


def test_a_so_called_annexation_beside_investors_stays_a_referendum(terms_only):
    text = "The illegal annexation left investors in Crimean resorts with nothing, Kyiv said."
    assert "referendum" in themes(terms_only, text, "en")
