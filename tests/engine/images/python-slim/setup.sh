# The official slim image has none of these: a probe that needs one must not pass here either.
for tool in curl wget nc netcat ncat socat ps pgrep pkill; do
    if command -v "$tool" >/dev/null 2>&1; then
        echo "python-slim: $tool is on PATH ($(command -v "$tool")); the real image has no $tool" >&2
        exit 1
    fi
done
# What the apps import must import (fails the build, not the first container).
python3 -c 'import django, celery, gunicorn, psycopg2, redis, kombu, amqp'
for tool in python python3 bash celery gunicorn; do
    command -v "$tool" >/dev/null || { echo "python-slim: $tool missing" >&2; exit 1; }
done
python3 -c "import dbm.gnu"
