for tool in curl wget python python3 nc; do
	if command -v "$tool" >/dev/null 2>&1; then
		echo "ruby-slim: $tool is on PATH; ruby:3.3-slim has none" >&2
		exit 1
	fi
done
for tool in ruby bash sh; do
	command -v "$tool" >/dev/null || { echo "ruby-slim: $tool missing" >&2; exit 1; }
done
