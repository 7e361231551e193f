# Shortcuts for the scripts; each sets up what it needs first.
.PHONY: run test bundle clean

run:
	./scripts/start.sh

test:
	./scripts/test.sh

bundle:
	./scripts/bundle.sh

clean:
	rm -rf build dist
