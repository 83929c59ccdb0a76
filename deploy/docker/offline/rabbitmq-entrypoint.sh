#!/bin/sh
# The offline RabbitMQ image's entrypoint (rabbitmq.Dockerfile): writes
# /etc/rabbitmq/rabbitmq.conf with the default user of RABBITMQ_DEFAULT_USER/_PASS (as the
# official image does; guest otherwise), allowed from other containers, then runs the server
# in the foreground; Debian's rabbitmq-server wrapper drops to the rabbitmq user.
set -eu
user=${RABBITMQ_DEFAULT_USER:-guest}
pass=${RABBITMQ_DEFAULT_PASS:-guest}
umask 077
printf 'default_user = %s\ndefault_pass = %s\nloopback_users = none\nlisteners.tcp.default = 5672\n' \
    "$user" "$pass" >/etc/rabbitmq/rabbitmq.conf
chown rabbitmq:rabbitmq /etc/rabbitmq/rabbitmq.conf
chown -R rabbitmq:rabbitmq /var/lib/rabbitmq
exec /usr/sbin/rabbitmq-server
