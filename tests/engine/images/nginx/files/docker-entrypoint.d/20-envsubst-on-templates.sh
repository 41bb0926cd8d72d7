#!/bin/sh
# Stand-in for the official image's 20-envsubst-on-templates.sh: every
# $NGINX_ENVSUBST_TEMPLATE_DIR (default /etc/nginx/templates) file ending in
# $NGINX_ENVSUBST_TEMPLATE_SUFFIX (default .template) is written, through envsubst restricted to
# the variables defined in the environment (matching NGINX_ENVSUBST_FILTER), to
# $NGINX_ENVSUBST_OUTPUT_DIR (default /etc/nginx/conf.d) without the suffix. No stream templates.
set -e
template_dir="${NGINX_ENVSUBST_TEMPLATE_DIR:-/etc/nginx/templates}"
suffix="${NGINX_ENVSUBST_TEMPLATE_SUFFIX:-.template}"
output_dir="${NGINX_ENVSUBST_OUTPUT_DIR:-/etc/nginx/conf.d}"
filter="${NGINX_ENVSUBST_FILTER:-}"
[ -d "$template_dir" ] || exit 0
if [ ! -w "$output_dir" ]; then
	echo "$0: ERROR: $template_dir exists, but $output_dir is not writable"
	exit 0
fi
vars=$(env | sed -n 's/^\([A-Za-z_][A-Za-z0-9_]*\)=.*/\1/p' | grep -E "${filter:-.}" | sed 's/.*/${&}/' | tr '\n' ' ')
find "$template_dir" -follow -type f -name "*$suffix" -print | while read -r template; do
	rel="${template#"$template_dir/"}"
	out="$output_dir/${rel%"$suffix"}"
	mkdir -p "$(dirname "$out")"
	echo "$0: Running envsubst on $template to $out"
	envsubst "$vars" <"$template" >"$out"
done
