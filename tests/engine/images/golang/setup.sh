# GOPATH where the official image has it, writable by anyone.
mkdir -p /go/src /go/bin
chmod -R 1777 /go
go version
for tool in go curl wget bash sh; do
	command -v "$tool" >/dev/null || { echo "golang: $tool missing" >&2; exit 1; }
done
