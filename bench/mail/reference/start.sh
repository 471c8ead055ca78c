#!/bin/sh
# Dovecot in the background, Postfix in the foreground: the container lives as long as Postfix.
set -e
postfix check
dovecot
exec postfix start-fg
