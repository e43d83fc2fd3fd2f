#!/usr/bin/perl

# The Debian package (make deb): its name, version and dependencies, the
# files it holds and the scripts dh_nginx gave it; then its .so, unpacked
# with dpkg-deb -x into a temp dir (never installed on the system), in the
# system nginx: nginx -t through the package's own modules-available
# snippet, and a started nginx answering SCIM requests against a real
# redis-server (t/lib/ScimTest.pm with SCIM_MODULE = the unpacked .so).
#
# The package is built by `make deb`, which rebuilds it only when a source,
# debian/ or the installed nginx-dev is newer than the last build (a build
# takes about 20 s here): this file runs `make deb` and then uses
# build/deb/*.deb.  SCIM_DEB=<file.deb> tests that package instead, without
# building.  Skipped where dpkg-deb or nginx-dev is missing (not Debian).

use strict;
use warnings;

use Test::More;
use File::Temp qw(tempdir);
use File::Basename qw(dirname basename);
use Cwd qw(abs_path);

my $REPO = abs_path(dirname(abs_path(__FILE__)) . '/..');
my $NGINX = '/usr/sbin/nginx';
my $ABI_FILE = '/usr/share/nginx/src/debian/libnginx-mod.abisubstvars';
my $PKG = 'libnginx-mod-http-scim';

plan skip_all => 'no dpkg-deb (not Debian)' unless which('dpkg-deb');
plan skip_all => "no $NGINX" unless -x $NGINX;

$SIG{ALRM} = sub { BAIL_OUT('t/92-deb.t: watchdog timeout') };
alarm($ENV{SCIM_TEST_TIMEOUT} // 600);

sub which {
    my ($cmd) = @_;
    for (split /:/, "$ENV{PATH}:/usr/sbin:/sbin") {
        return "$_/$cmd" if -x "$_/$cmd";
    }
    return undef;
}

# output (stdout + stderr) and exit code
sub run {
    my ($cmd) = @_;
    my $out = `$cmd 2>&1`;
    return ($? >> 8, $out);
}

sub slurp {
    my ($f) = @_;
    open my $fh, '<', $f or return undef;
    local $/;
    return scalar <$fh>;
}

my $tmp = tempdir('scim-deb-XXXXXX', TMPDIR => 1,
                  CLEANUP => !$ENV{SCIM_TEST_KEEP});


# ---- the package: built (or reused) by make deb

my $deb = $ENV{SCIM_DEB};

unless ($deb) {
    # a make of its own: not the variables of a make running this test
    # (make test-asan's CC=clang, BUILD=...)
    delete @ENV{qw(MAKEFLAGS MFLAGS MAKELEVEL MAKEOVERRIDES)};
    my $before = `git -C '$REPO' status --porcelain 2>/dev/null`;
    my ($rc, $out) = run("make -s -C '$REPO' deb");
    is($rc, 0, 'make deb') or diag($out);
    my $after = `git -C '$REPO' status --porcelain 2>/dev/null`;
    is($after, $before, 'make deb leaves the work tree as it was');
    ok(!-e '/usr/share/nginx/src/objs' && !-e '/usr/share/nginx/src/Makefile',
       'nothing written into /usr/share/nginx/src');

    my @debs = glob("$REPO/build/deb/${PKG}_*.deb");
    is(scalar @debs, 1, "one ${PKG}_*.deb in build/deb/")
        or diag(join "\n", @debs);
    $deb = $debs[0];
}

BAIL_OUT("no package to test") unless $deb && -f $deb;


# ---- name, version, dependencies

my %f;
for my $field (qw(Package Version Architecture Depends Section)) {
    my ($rc, $v) = run("dpkg-deb -f '$deb' $field");
    chomp $v;
    $f{$field} = $v;
}

my ($rc, $arch) = run('dpkg --print-architecture');
chomp $arch;

is($f{Package}, $PKG, 'Package');
is($f{Architecture}, $arch, 'Architecture is this machine\'s');
is($f{Section}, 'httpd', 'Section');
is(basename($deb), "$f{Package}_$f{Version}_$f{Architecture}.deb",
   'file name is <package>_<version>_<arch>.deb');

# version: debian/changelog's, then "+nginx<ABI>"
my ($abi) = (slurp($ABI_FILE) // '') =~ /^nginx:abi=(nginx-abi-\S+)$/m;
my ($base) = (slurp("$REPO/debian/changelog") // '')
    =~ /^\Q$PKG\E \(([^)]+)\)/;
ok($abi, "the installed nginx-dev names its ABI ($ABI_FILE)");
(my $abi_ver = $abi // '') =~ s/^nginx-abi-//;
$abi_ver =~ tr/-/./;
is($f{Version}, "$base+nginx$abi_ver",
   'Version is debian/changelog\'s + "+nginx<ABI>"') unless $ENV{SCIM_DEB};

# Depends: exactly one nginx-abi-*, the one the installed nginx provides
my @dep = map { s/^\s+|\s+$//gr } split /,/, $f{Depends};
my @abi_dep = grep { /^nginx-abi-/ } @dep;
is_deeply(\@abi_dep, [$abi], "Depends on $abi (the installed nginx-dev's)");
my $provides = `dpkg-query -W -f='\${Provides}' nginx 2>/dev/null`;
ok((grep { $_ eq $abi } map { s/^\s+|\s+$//gr } split /,/, $provides),
   "the installed nginx Provides $abi") or diag("Provides: $provides");

for my $lib (qw(libjansson4 libhiredis0.14 libssl3 libargon2-1 libc6)) {
    ok((grep { /^\Q$lib\E( |$)/ } @dep), "Depends on $lib (shlibs)")
        or diag("Depends: $f{Depends}");
}
ok(!(grep { /^nginx( |$)/ || /^nginx-(common|core|full|light|extras)/ }
        @dep), 'no Depends on an nginx package by name: the ABI ties it');


# ---- files

my ($crc, $list) = run("dpkg-deb -c '$deb'");
is($crc, 0, 'dpkg-deb -c');
my (@files, @other);
for (split /\n/, $list) {
    my ($mode, $path) = /^(\S+)\s+\S+\s+\S+\s+\S+\s+\S+\s+(\S+)/ or next;
    $path =~ s{^\./}{/};
    if ($mode =~ /^-/) {
        push @files, $path;
    } elsif ($mode !~ /^d/) {
        push @other, "$mode $path";
    }
}
is_deeply([sort @files], [sort(
    '/usr/lib/nginx/modules/ngx_http_scim_module.so',
    '/usr/share/nginx/modules-available/mod-http-scim.conf',
    "/usr/share/doc/$PKG/changelog.gz",
    "/usr/share/doc/$PKG/copyright",
)], 'the .so, the snippet, changelog and copyright: nothing else')
    or diag($list);
is_deeply(\@other, [], 'no symlinks or other special files');
like($list, qr{^-rw-r--r-- root/root .* \./usr/lib/nginx/modules/ngx_http_scim_module\.so$}m,
     'the .so is 0644 root:root');

# maintainer scripts: dh_nginx's, enabling the snippet in modules-enabled
my $ctl = "$tmp/control";
my ($erc, $eout) = run("dpkg-deb -e '$deb' '$ctl'");
is($erc, 0, 'dpkg-deb -e') or diag($eout);
my $postinst = slurp("$ctl/postinst") // '';
my $ln = qr{ln -sf /usr/share/nginx/modules-available/\$from[\s\\]*};
like($postinst, qr{$ln/etc/nginx/modules-enabled/\$to\n},
     'postinst links the snippet into /etc/nginx/modules-enabled');
like($postinst, qr{mod-http-scim\.conf:50-mod-http-scim\.conf},
     'as 50-mod-http-scim.conf');
like($postinst, qr{dpkg-trigger --no-await nginx-reload},
     'postinst asks nginx-common to reload nginx');
like(slurp("$ctl/prerm") // '', qr{modules-enabled/\$to\.removed},
     'prerm disables it on remove');
ok(-f "$ctl/postrm", 'postrm');
ok(!-e "$ctl/conffiles", 'no conffiles (the snippet is not under /etc)');


# ---- unpacked: the snippet and the .so in the system nginx

my $root = "$tmp/root";
my ($xrc, $xout) = run("dpkg-deb -x '$deb' '$root'");
is($xrc, 0, 'dpkg-deb -x') or diag($xout);

my $so = "$root/usr/lib/nginx/modules/ngx_http_scim_module.so";
my $snippet = "$root/usr/share/nginx/modules-available/mod-http-scim.conf";
is(slurp($snippet), "load_module modules/ngx_http_scim_module.so;\n",
   'the snippet loads modules/ngx_http_scim_module.so');

my ($lrc, $ldd) = run("ldd '$so'");
unlike($ldd, qr/not found/, 'every library of the .so is there');
like($ldd, qr/libjansson\.so.*\n(?:.*\n)*/ , 'links libjansson')
    and like($ldd, qr/libhiredis\.so/, 'links libhiredis')
    and like($ldd, qr/libargon2\.so/, 'links libargon2')
    and like($ldd, qr/libcrypto\.so/, 'links libcrypto');

# nginx -t through the snippet as shipped: "modules/" is relative to the
# prefix, /usr/share/nginx, whose modules/ is nginx-common's symlink to
# /usr/lib/nginx/modules; the same layout is made under $root.
symlink('../../lib/nginx/modules', "$root/usr/share/nginx/modules")
    or die "symlink: $!";
my $conf = "$tmp/nginx-t.conf";
open my $fh, '>', $conf or die "$conf: $!";
print $fh <<"EOF";
include $snippet;
pid $tmp/nginx-t.pid;
error_log $tmp/nginx-t.log;
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

my ($trc, $tout) = run("$NGINX -t -p '$root/usr/share/nginx/' -c '$conf'"
                       . " -e '$tmp/nginx-t.log'");
is($trc, 0, 'nginx -t loads the package\'s .so through its snippet')
    or diag($tout);
like($tout, qr/test is successful/, 'nginx -t: test is successful');

# a self-check: the same without the snippet, the scim directive is unknown
(my $noload = slurp($conf)) =~ s/^include .*\n//m;
open $fh, '>', "$tmp/noload.conf" or die;
print $fh $noload;
close $fh;
my ($nrc, $nout) = run("$NGINX -t -p '$root/usr/share/nginx/'"
                       . " -c '$tmp/noload.conf' -e '$tmp/nginx-t.log'");
isnt($nrc, 0, 'without the snippet nginx -t fails');
like($nout, qr/unknown directive "scim"/, '... on the unknown directive');


# ---- a started nginx with the unpacked .so answers SCIM requests

$ENV{SCIM_MODULE} = $so;
$ENV{SCIM_NGINX} = $NGINX;
require lib;
lib->import("$REPO/t/lib");
require ScimTest;
ScimTest->import;

my $t = ScimTest->new(workers => 1);
is($t->module, abs_path($so), 'the harness loads the unpacked .so');
$t->write_config($t->standard_conf);
$t->start_nginx_ok;

my $name = 'deb-' . $$ . '@example.com';
my $r = $t->post('Users', { schemas => [ScimTest::URN_USER()],
                            userName => $name });
is($r->{status}, 201, 'POST /Users: 201') or diag($r->{content});
my $id = $r->{json} && $r->{json}{id};
ok($id, 'the user has an id');

$r = $t->get("Users/$id");
is($r->{status}, 200, 'GET it back: 200');
is($r->{json} && $r->{json}{userName}, $name, '... with its userName');
ok($t->redis_doc('scim:{acme}:', 'User', $id),
   'stored in the real redis-server');

$r = $t->get('Users', token => 'not-the-token-0123456789');
is($r->{status}, 401, 'a wrong token: 401');

$t->finish;
