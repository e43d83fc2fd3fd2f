#!/usr/bin/perl

# make NGX_SRC=<nginx source tree>: the module built for a tree that is not
# Debian's.  The tree is a copy of nginx-dev's /usr/share/nginx/src without
# its conf_flags and debian/ (so, like an nginx.org tarball, it says
# nothing of how the binary was configured): make must configure it with
# NGX_FLAGS (--with-compat --with-threads ...), and the .so must load into
# Debian's /usr/sbin/nginx, which was configured with other flags but also
# --with-compat.  Also: a missing NGX_SRC and a directory that is not an
# nginx tree fail with a message naming them.  The build goes to a temp
# BUILD; it takes about 30 s.

use strict;
use warnings;

use Test::More;
use File::Temp qw(tempdir);
use File::Basename qw(dirname);
use File::Path qw(make_path);
use Cwd qw(abs_path);

my $REPO = abs_path(dirname(abs_path(__FILE__)) . '/..');
my $DEB_SRC = '/usr/share/nginx/src';
my $NGINX = '/usr/sbin/nginx';

plan skip_all => "no $DEB_SRC (nginx-dev)" unless -f "$DEB_SRC/configure";
plan skip_all => "no $NGINX" unless -x $NGINX;

$SIG{ALRM} = sub { BAIL_OUT('t/93-ngx-src.t: watchdog timeout') };
alarm($ENV{SCIM_TEST_TIMEOUT} // 600);

# a make of its own, not the variables of a make running this test
delete @ENV{qw(MAKEFLAGS MFLAGS MAKELEVEL MAKEOVERRIDES)};

my $tmp = tempdir('scim-ngxsrc-XXXXXX', TMPDIR => 1,
                  CLEANUP => !$ENV{SCIM_TEST_KEEP});

sub run {
    my ($cmd) = @_;
    my $out = `$cmd 2>&1`;
    return ($? >> 8, $out);
}

sub slurp {
    my ($f) = @_;
    open my $fh, '<', $f or return '';
    local $/;
    return scalar <$fh>;
}

my ($version) = slurp("$DEB_SRC/src/core/nginx.h")
    =~ /#define NGINX_VERSION\s+"([^"]+)"/;
ok($version, "nginx-dev's version: $version");

# ---- bad NGX_SRC

my ($rc, $out) = run("make -s -C '$REPO' NGX_SRC='$tmp/nope'"
                     . " BUILD='$tmp/build-nope'");
isnt($rc, 0, 'NGX_SRC that does not exist: make fails');
like($out, qr{NGX_SRC=\Q$tmp\E/nope: no such directory}, '... saying so');

make_path("$tmp/empty");
($rc, $out) = run("make -s -C '$REPO' NGX_SRC='$tmp/empty'"
                  . " BUILD='$tmp/build-empty'");
isnt($rc, 0, 'NGX_SRC that is not an nginx tree: make fails');
like($out, qr{NGX_SRC=\Q$tmp\E/empty is not an nginx source tree},
     '... saying so');

# ---- a tree without conf_flags

my $src = "$tmp/nginx-$version";
($rc, $out) = run("cp -a '$DEB_SRC' '$src'"
                  . " && rm -rf '$src/conf_flags' '$src/debian'");
is($rc, 0, 'a copy of the nginx sources without conf_flags') or diag($out);

my $build = "$tmp/build";
($rc, $out) = run("make -s -C '$REPO' NGX_SRC='$src' BUILD='$build'");
is($rc, 0, "make NGX_SRC=<tree> BUILD=<dir>") or diag($out);
my $so = "$build/ngx_http_scim_module.so";
ok(-f $so, 'the module is built');
like($out, qr/built \Q$so\E for nginx \Q$version\E; it loads only into an nginx \Q$version\E built --with-compat/,
     'make says which nginx it is for');

my $config = slurp("$build/nginx-src/objs/ngx_auto_config.h");
my ($flags) = $config =~ /#define NGX_CONFIGURE "([^"]*)"/;
like($flags // '', qr/--with-compat/, 'configured --with-compat');
like($flags // '', qr/--with-threads/, '... --with-threads');
unlike($flags // '', qr/--with-http_dav_module|--conf-path/,
       '... not with Debian\'s conf_flags');

# Debian's nginx (its own flags, --with-compat) loads it
open my $fh, '>', "$tmp/t.conf" or die;
print $fh <<"EOF";
load_module $so;
pid $tmp/t.pid;
events { }
http {
    access_log off;
    server {
        listen 127.0.0.1:1;
        location /scim/v2/ {
            scim;
            scim_redis 127.0.0.1:6379;
            scim_tenant acme;
            scim_bearer_token_file $tmp/tokens;
        }
    }
}
EOF
close $fh;
open $fh, '>', "$tmp/tokens" or die;
print $fh "acme 0123456789abcdef0123456789abcdef\n";
close $fh;

($rc, $out) = run("$NGINX -t -p '$tmp/' -c '$tmp/t.conf' -e '$tmp/t.log'");
is($rc, 0, "$NGINX loads the module built with NGX_FLAGS") or diag($out);
like($out, qr/test is successful/, '... nginx -t: test is successful');

done_testing();
