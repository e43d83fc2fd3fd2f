#!/usr/bin/env bash
# `make run`: start redis-server (unless one already listens on
# 127.0.0.1:6379) and nginx with conf-examples/quickstart.conf in the
# foreground on 127.0.0.1:8080, or on 127.0.0.1:$PORT (`make run PORT=8081`).
set -euo pipefail

port=${PORT:-8080}

case "$port" in
    ''|*[!0-9]*) echo "make run: PORT=$port is not a port number" >&2; exit 2 ;;
esac

if [ "$port" -lt 1 ] || [ "$port" -gt 65535 ]; then
    echo "make run: PORT=$port is not a port number (1-65535)" >&2
    exit 2
fi

if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    cat >&2 <<MSG
make run: 127.0.0.1:$port is already in use (another nginx, or an earlier
\`make run\` still running?).  Stop it, or pick another port:

    make run PORT=8081
MSG
    exit 1
fi

top=$(cd "$(dirname "$0")/.." && pwd)
run="${SCIM_RUN_DIR:-$top/build/run}"
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

# the example as it is, but on $port, its token file found from build/run
sed -e "s/127\.0\.0\.1:8080/127.0.0.1:$port/g" \
    -e "s|quickstart\.tokens;|$top/conf-examples/quickstart.tokens;|" \
    "$top/conf-examples/quickstart.conf" > "$run/quickstart.conf"

cat <<MSG

  ngx_http_scim_module is running.

  Tenant URL:    http://127.0.0.1:$port/scim/v2
  Secret Token:  $token

  Try:  curl -H "Authorization: Bearer $token" \\
             'http://127.0.0.1:$port/scim/v2/Users?filter=userName%20eq%20%22x%22'

  (Entra ID needs an HTTPS address it can reach: see README.md and
   conf-examples/ for TLS.)  Ctrl-C stops nginx and redis.

MSG

nginx -p "$run/" -c "$run/quickstart.conf" \
      -e "$run/error.log" -g 'daemon off;'
