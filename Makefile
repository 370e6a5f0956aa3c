.PHONY: run dev test stop bench loadtest lint messages clean

run:            ## set up and start the whole portal as production serves it (gunicorn, DEBUG off)
	@bash scripts/run.sh

dev:            ## the same with Django's autoreloading development server and DEBUG on
	@bash scripts/run.sh dev

test:           ## set up from nothing and run the whole test suite on real PostgreSQL and Redis
	@bash scripts/test.sh

stop:           ## stop whatever `make run` left running
	@bash scripts/stop.sh

bench:          ## benchmarks (never part of `make test`); prints BENCH lines
	@bash scripts/bench.sh

loadtest:       ## Locust against gunicorn over seed_scale's province (never part of `make test`)
	@bash scripts/loadtest.sh

lint:           ## ruff, and the one-way layers (import-linter, pyproject.toml)
	@.venv/bin/ruff check . && .venv/bin/ruff format --check . && .venv/bin/lint-imports --no-cache

messages:       ## refresh the translation catalogues
	@.venv/bin/python manage.py makemessages -l zh_Hans --ignore=.venv --ignore=var --no-location
	@.venv/bin/python manage.py compilemessages --ignore=.venv

clean:          ## stop the servers and remove var/ (all local data)
	@bash scripts/stop.sh; rm -rf var

.PHONY: backup restore
backup:         ## one archive of the database and the uploads in var/backups (README "Backups")
	@bash scripts/backup.sh

restore:        ## restore FILE=… into an empty installation (FORCE=1: replace), then migrate
	@FORCE="$(FORCE)" bash scripts/restore.sh "$(FILE)"
