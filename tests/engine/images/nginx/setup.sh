# Like the official nginx image (nginxinc/docker-nginx, mainline/debian):
# - user and group nginx, uid/gid 101, the workers' user in the default nginx.conf;
groupadd --system --gid 101 nginx
useradd --system --gid nginx --no-create-home --home /nonexistent --comment "nginx user" --shell /bin/false --uid 101 nginx
# - logs to the container's stdout/stderr;
mkdir -p /var/log/nginx
ln -sf /dev/stdout /var/log/nginx/access.log
ln -sf /dev/stderr /var/log/nginx/error.log
# - the layout of nginx.org's packages: nginx.conf includes conf.d/*.conf, the default site is
#   /usr/share/nginx/html (files/ brings both); none of Debian's sites-* or its default site;
rm -rf /etc/nginx/sites-enabled /etc/nginx/sites-available /var/www/html
# - the workers (nginx) may write the temp directories.
mkdir -p /var/lib/nginx /var/cache/nginx
chown -R nginx:nginx /var/lib/nginx /var/cache/nginx
