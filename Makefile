# The two commands of the README. Both prepare .venv on first use.
.PHONY: run demo test

run:
	scripts/bootstrap.sh run
	.venv/bin/watchfloor run

demo:
	scripts/bootstrap.sh run
	.venv/bin/watchfloor run --demo

test:
	scripts/bootstrap.sh test
	.venv/bin/python -m pytest
