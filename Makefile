# The original's make targets, as thin wrappers around ./pic (which does the work).
.PHONY: start stop restart status logs update uninstall reinstall list-peers show-routes \
	show-admin-password reset-admin-password test compose backup restore

start:
	./pic up --yes
stop:
	./pic down
restart:
	./pic restart
status:
	./pic status
logs:
	./pic logs
logs-%:
	./pic logs $* -f
shell-%:
	./pic shell $*
update:
	./pic update
uninstall:
	./pic uninstall
reinstall:
	./pic uninstall --purge && ./pic up --yes
list-peers:
	./pic list-peers
show-routes:
	./pic show-routes
show-admin-password:
	@echo "PIC never stores the admin password in plain text; run: make reset-admin-password"
reset-admin-password:
	./pic admin reset-password
compose:
	./pic compose
test:
	./pic test
# make backup [PASSPHRASE_FILE=F]: encrypted, the passphrase from F or asked on the terminal.
# make restore [FILE=archive-or-id] [PASSPHRASE_FILE=F]: without FILE, lists the backups.
# The values reach ./pic as environment variables expanded by the shell, never pasted into the line.
backup:
	./pic backup --passphrase-file "$${PASSPHRASE_FILE:--}"
restore:
	./pic restore $${FILE:+"$$FILE"} $${PASSPHRASE_FILE:+--passphrase-file "$$PASSPHRASE_FILE"}
