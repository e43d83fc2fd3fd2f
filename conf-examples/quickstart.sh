#!/usr/bin/env bash
# `make run`: start redis-server (unless one already listens on
# 127.0.0.1:6379) and nginx with conf-examples/quickstart.conf in the
# foreground on 127.0.0.1:8080.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
run="$top/build/run"
mkdir -p "$run/run" "$run/modules" "$run/redis"
ln -sf "$top/build/ngx_http_scim_module.so" \
       "$run/modules/ngx_http_scim_module.so"

redis_pid=""
if ! (exec 3<>/dev/tcp/127.0.0.1/6379) 2>/dev/null; then
    redis-server "$top/conf-examples/redis.conf" --dir "$run/redis" \
        --daemonize no --logfile "$run/redis/redis.log" &
    redis_pid=$!
    for _ in $(seq 50); do
        (exec 3<>/dev/tcp/127.0.0.1/6379) 2>/dev/null && break
        sleep 0.1
    done
fi

cleanup() {
    [ -n "$redis_pid" ] && kill "$redis_pid" 2>/dev/null || true
}
trap cleanup EXIT

token=$(grep -v '^#' "$top/conf-examples/quickstart.tokens" | head -1)

cat <<MSG

  ngx_http_scim_module is running.

  Tenant URL:    http://127.0.0.1:8080/scim/v2
  Secret Token:  $token

  Try:  curl -H "Authorization: Bearer $token" \\
             'http://127.0.0.1:8080/scim/v2/Users?filter=userName%20eq%20%22x%22'

  (Entra ID needs an HTTPS address it can reach: see README.md and
   conf-examples/ for TLS.)  Ctrl-C stops nginx and redis.

MSG

nginx -p "$run/" -c "$top/conf-examples/quickstart.conf" \
      -e "$run/error.log" -g 'daemon off;'
