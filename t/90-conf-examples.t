#!/usr/bin/perl

# `nginx -t` on every conf-examples/**/*.conf, with the module loaded.
#
# Each example is copied (with the files beside it: schema JSON, token
# files) into a private temp prefix, and only what cannot exist on a test
# machine is rewritten: the load_module path (-> this repository's
# build/ngx_http_scim_module.so), certificate paths (-> a self-signed
# certificate made here with openssl), token files that are not beside the
# example (-> a temp token file; OAuth clients and keys likewise; a JWKS
# -> conf-examples/entra.jwks.example), listen addresses (-> 127.0.0.1 and free
# high ports), pid, log and temp paths (-> the temp dir), and the "user"
# line when not run as root.  Everything else, directive names included,
# reaches nginx as written, so a typo in an example fails this test; each
# statement keeps its line, so nginx's messages name the example's line.
#
# Also checked: the Tenant URL path each seed app's example serves, the
# TLS/limit_req/redirect front of the app examples, that
# conf-examples/tokens.example is a valid token file, and (as a self-test
# of the harness) that a misspelt scim directive does fail.
#
# Environment: SCIM_NGINX (default /usr/sbin/nginx), SCIM_MODULE (default
# <repo>/build/ngx_http_scim_module.so), SCIM_TEST_KEEP=1 keeps the temp dir.

use strict;
use warnings;

use Test::More;
use File::Temp qw(tempdir);
use File::Copy qw(copy);
use File::Find qw(find);
use File::Basename qw(dirname basename);
use File::Path qw(make_path);
use File::Spec;
use Cwd qw(abs_path);
use IO::Socket::INET;
use POSIX qw(WNOHANG);
use Time::HiRes qw(sleep time);

my $REPO = abs_path(dirname(abs_path(__FILE__)) . '/..');
my $EXAMPLES = "$REPO/conf-examples";
my $NGINX = $ENV{SCIM_NGINX} // '/usr/sbin/nginx';
my $MODULE = $ENV{SCIM_MODULE} // "$REPO/build/ngx_http_scim_module.so";
my $ROOT = $> == 0;

plan skip_all => "no nginx at $NGINX" unless -x $NGINX;
plan skip_all => "no module at $MODULE (run make)" unless -f $MODULE;
plan skip_all => 'no openssl in PATH' unless which('openssl');

# The examples are written for nginx 1.22, where HTTP/2 is a "listen"
# parameter; from 1.25.1 on it is "http2 on;" and "listen ... http2"
# warns.  Each example that uses it says so, and on a newer nginx
# (SCIM_NGINX, e.g. make NGX_SRC=... test) it is tested with that change
# made: "http2" off the listen lines, "http2 on;" after the first.
my ($NGX_VERSION) = `'$NGINX' -v 2>&1` =~ m{nginx/(\d+\.\d+\.\d+)};
my $HTTP2_ON = ($NGX_VERSION // '0.0.0') =~ /^(\d+)\.(\d+)\.(\d+)$/
               && ($1 * 1000000 + $2 * 1000 + $3 >= 1025001);
diag("nginx $NGX_VERSION: examples tested with \"http2 on;\"") if $HTTP2_ON;

# never hang: a watchdog for the whole file
$SIG{ALRM} = sub { BAIL_OUT('t/90-conf-examples.t: watchdog timeout') };
alarm($ENV{SCIM_TEST_TIMEOUT} // 300);

# The Tenant URL path of each seed app's tutorial, as a location.
my %APP = (
    'envoy.conf'                     => { location => '/scim/v2/' },
    'new-relic.conf'                 => { location => '/scim/v2/' },
    'federated-directory.conf'       => { location => '/v2/' },
    'global-relay/global-relay.conf' => {
        location  => qr{^\^/identity-sync/\(\?<customer>[^)]*\)/scim/v2/$},
        tenant    => qr/\$customer\b/,
        extension => 'globalrelay-extension.json',
    },
);

my @CONFS;
my %STARTABLE;      # rel -> { prefix, conf, ports }: what nginx_t made
find({ no_chdir => 1, wanted => sub {
    # conf.d/: snippets for inside Debian's stock http { }, t/92's
    push @CONFS, File::Spec->abs2rel($_, $EXAMPLES)
        if -f $_ && /\.conf\z/ && basename($_) ne 'redis.conf'
           && File::Spec->abs2rel($_, $EXAMPLES) !~ m{^conf\.d/};
} }, $EXAMPLES);
@CONFS = sort @CONFS;

my $tmp = tempdir('scim-conf-XXXXXX', TMPDIR => 1,
                  CLEANUP => !$ENV{SCIM_TEST_KEEP});
diag("temp dir kept: $tmp") if $ENV{SCIM_TEST_KEEP};
chmod 0755, $tmp;

# a self-signed certificate, and a token file
my ($CERT, $KEY) = ("$tmp/cert.pem", "$tmp/key.pem");
my ($rc, $out) = run_cmd(60, 'openssl', 'req', '-x509', '-newkey',
    'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-days', '1',
    '-keyout', $KEY, '-out', $CERT);
BAIL_OUT("openssl req failed: $out") unless $rc == 0 && -s $CERT && -s $KEY;

my $TOKENS = "$tmp/test.tokens";
write_file($TOKENS, "# test tokens\nconf-examples-test-token-0123456789\n"
    . 'sha256:' . ('ab' x 32) . "\n");

my $OAUTH_KEY = "$tmp/test-oauth.key";
write_file($OAUTH_KEY, ('0123456789abcdef' x 4) . "\n");
my $OAUTH_CLIENTS = "$tmp/test-oauth.clients";
write_file($OAUTH_CLIENTS, "contoso conf-examples-client "
    . "conf-examples-secret-0123456789 expires=2099-12-31\n");

# ---- every example names an app of the seeds, and each app has one

for my $app (sort keys %APP) {
    ok(scalar(grep { $_ eq $app } @CONFS), "conf-examples/$app exists");
}

# ---- nginx -t on each example

my $n = 0;

for my $rel (@CONFS) {
    $n++;
    my $src = "$EXAMPLES/$rel";
    my $text = read_file($src);
    my $stmts = eval { parse_conf($text) };

    if (!$stmts) {
        fail("$rel: parse: $@");
        next;
    }

    ok(scalar(find_stmts($stmts, 'scim')), "$rel: has a \"scim;\" location");

    if (find_stmts($stmts, 'listen', sub { grep { $_ eq 'http2' }
                                           @{ $_[0]{args} } }))
    {
        like($text, qr/^\s*#.*1\.25\.1.*\n(?:\s*#.*\n)*?\s*#.*"http2 on;"/m,
             "$rel: says what to change for nginx 1.25.1+ (http2 on;)");
    }

    check_app($rel, $stmts) if $APP{$rel};

    my ($ok, $out, $conf) = nginx_t($rel, $text, "ex$n");
    ok($ok, "$rel: nginx -t exits 0") or diag("$conf:\n$out");
    like($out, qr/syntax is ok/, "$rel: syntax is ok");
    like($out, qr/test is successful/, "$rel: test is successful");
    unlike($out, qr/\[(?:emerg|alert|crit|warn)\]/,
           "$rel: no [emerg]/[alert]/[crit]/[warn]") or diag($out);
}

ok($n >= 5, "examples tested: $n (quickstart + one per seed app)");

# ---- the per-customer example, running: every path is SCIM, not HTML
#
# An unknown customer (the map says 0), a name the regex does not take,
# and any other path of the host get a SCIM error, over its TLS port.
# None of these needs Redis.

SKIP: {
    my $gr = $STARTABLE{'global-relay/global-relay.conf'};
    skip 'no global-relay example', 9 unless $gr;
    skip 'no curl', 9 unless which('curl');
    my ($tls) = grep { /^443\b/ } keys %{ $gr->{ports} };
    skip 'the example has no listen 443', 9 unless $tls;
    my $port = $gr->{ports}{$tls};

    my $pid = fork() // die "fork: $!";
    if ($pid == 0) {
        open STDIN, '<', '/dev/null';
        open STDOUT, '>', "$gr->{prefix}/logs/nginx.out";
        open STDERR, '>&', \*STDOUT;
        exec($NGINX, '-p', "$gr->{prefix}/", '-c', $gr->{conf},
             '-e', "$gr->{prefix}/logs/error.log", '-g', 'daemon off;')
            or POSIX::_exit(127);
    }
    my $up;
    for (1 .. 100) {
        last if waitpid($pid, WNOHANG) == $pid;
        if (IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port", Timeout => 1)) {
            $up = 1;
            last;
        }
        sleep 0.1;
    }
    ok($up, 'global-relay.conf: nginx runs it') or diag(read_file(
        "$gr->{prefix}/logs/error.log") // '');

    for my $path ('/identity-sync/initech/scim/v2/Users',
                  '/identity-sync/Not_A-Name/scim/v2/Users',
                  '/index.html')
    {
        my ($rc, $out) = run_cmd(20, 'curl', '-sk', '--max-time', '10',
            '-o', '-', '-w', '\n%{http_code} %{content_type}',
            '-H', 'Authorization: Bearer conf-examples-test-token-0123456789',
            "https://127.0.0.1:$port$path");
        my ($body, $status, $ct) = $out =~ /\A(.*)\n(\d+) (\S*)\z/s;
        is($status, 404, "global-relay.conf: GET $path: 404");
        like($ct // '', qr{^application/scim\+json},
             "... as application/scim+json ($path)");
        like($body // '', qr/"urn:ietf:params:scim:api:messages:2\.0:Error"/,
             "... a SCIM error, not HTML ($path)");
    }

    kill 'QUIT', $pid;
    for (1 .. 100) { last if waitpid($pid, WNOHANG) == $pid; sleep 0.1 }
    kill 'KILL', $pid if kill 0, $pid;
    waitpid($pid, 0);
}

# ---- tokens.example is a token file the module accepts

{
    my $te = "$EXAMPLES/tokens.example";
    ok(-f $te, 'conf-examples/tokens.example exists');
    my $conf = <<"EOF";
load_module modules/ngx_http_scim_module.so;
events {}
http {
    server {
        listen 127.0.0.1:8080;
        location /scim/v2/ {
            scim;
            scim_redis 127.0.0.1:6379;
            scim_bearer_token_file $te;
        }
    }
}
EOF
    my ($ok, $out) = nginx_t('tokens.example', $conf, 'tokens');
    ok($ok, 'tokens.example: accepted by scim_bearer_token_file')
        or diag($out);
    like(read_file($te), qr/^sha256:[0-9a-f]{64}\s*$/m,
         'tokens.example: has a sha256: line');
}

# ---- self-test: a misspelt directive fails

SKIP: {
    my ($rel) = grep { $APP{$_} } @CONFS;
    skip 'no app example', 2 unless $rel;
    my $text = read_file("$EXAMPLES/$rel");
    $text =~ s/^(\s*)scim_tenant\b/$1scim_tennant/m
        or $text =~ s/^(\s*)scim;/$1scimm;/m;
    my ($ok, $out) = nginx_t("$rel (misspelt)", $text, 'typo');
    ok(!$ok, "$rel with a misspelt directive: nginx -t fails");
    like($out, qr/unknown directive "scim_tennant"|unknown directive "scimm"/,
         '... naming the unknown directive') or diag($out);
}

alarm 0;
done_testing();


# ------------------------------------------------------------------ checks

# The front every app example must have: TLS 1.2+ with ECDHE ciphers on
# 443 ssl http2, limit_req on the SCIM location, a plain-HTTP redirect,
# and the Tenant URL path of its tutorial.
sub check_app {
    my ($rel, $stmts) = @_;
    my $want = $APP{$rel};

    my @scim_locs = grep { find_stmts($_->{children}, 'scim') }
                    find_stmts($stmts, 'location');
    ok(scalar(@scim_locs), "$rel: a location with scim;");

    my @paths = map { $_->{args}[-1] } @scim_locs;
    my $lre = ref $want->{location} ? $want->{location}
                                    : qr/^\Q$want->{location}\E$/;
    ok(scalar(grep { $_ =~ $lre } @paths),
       "$rel: serves the tutorial's Tenant URL path")
        or diag("locations: @paths");

    for my $loc (@scim_locs) {
        my $p = $loc->{args}[-1];
        ok(scalar(find_stmts($loc->{children}, 'limit_req')),
           "$rel: limit_req in location $p");
        ok(scalar(find_stmts($loc->{children},
                           'scim_bearer_token_file')),
           "$rel: scim_bearer_token_file in location $p");
    }

    if ($want->{tenant}) {
        my @t = map { $_->{args}[0] }
                map { find_stmts($_->{children}, 'scim_tenant') } @scim_locs;
        ok(scalar(grep { $_ =~ $want->{tenant} } @t),
           "$rel: scim_tenant from the path ($want->{tenant})");
    }

    if ($want->{extension}) {
        my @e = map { $_->{args}[0] }
                map { find_stmts($_->{children}, 'scim_schema_extension') }
                @scim_locs;
        ok(scalar(grep { $_ eq $want->{extension} } @e),
           "$rel: scim_schema_extension $want->{extension}");
    }

    ok(scalar(find_stmts($stmts, 'limit_req_zone', sub {
           grep { $_ eq '$binary_remote_addr' } @{ $_[0]{args} } })),
       "$rel: limit_req_zone keyed on \$binary_remote_addr");

    my @tls = find_stmts($stmts, 'listen', sub {
        my @a = @{ $_[0]{args} };
        $a[0] =~ /(?:^|:)443$/ && grep({ $_ eq 'ssl' } @a)
            && grep({ $_ eq 'http2' } @a);
    });
    ok(scalar(@tls), "$rel: listen 443 ssl http2");

    my @protos = map { @{ $_->{args} } } find_stmts($stmts, 'ssl_protocols');
    ok(@protos > 0 && !grep({ !/^TLSv1\.[23]$/ } @protos),
       "$rel: ssl_protocols TLS 1.2+ only (@protos)");

    my @ciphers = map { split /:/, $_->{args}[0] }
                  find_stmts($stmts, 'ssl_ciphers');
    ok(@ciphers > 0 && !grep({ !/^ECDHE-/ } @ciphers),
       "$rel: ssl_ciphers ECDHE only");

    ok(scalar(find_stmts($stmts, 'ssl_certificate', sub {
           $_[0]{args}[0] =~ m{^/etc/nginx/scim/} })),
       "$rel: ssl_certificate under /etc/nginx/scim/");

    ok(scalar(find_stmts($stmts, 'return', sub {
           $_[0]{args}[0] =~ /^30[18]$/ && $_[0]{args}[1] =~ /^https:/ })),
       "$rel: a plain-HTTP redirect to https");
}


# ------------------------------------------------------------ nginx -t

# Rewrite $text (an example named $rel) into $tmp/$tag/ and run nginx -t.
# Returns (ok, output, conf path).
sub nginx_t {
    my ($rel, $text, $tag) = @_;

    my $prefix = "$tmp/$tag";
    my $confdir = "$prefix/conf";
    make_path("$prefix/logs", "$prefix/temp", $confdir);

    # the files beside the example (schema JSON, token files), so that
    # its relative names resolve as they do in the repository
    my $srcdir = dirname("$EXAMPLES/$rel");
    if (-d $srcdir && $rel =~ /\.conf\z/) {
        opendir(my $dh, $srcdir) or die "$srcdir: $!";
        for my $f (readdir $dh) {
            next if $f =~ /^\./ || $f =~ /\.conf\z/ || !-f "$srcdir/$f";
            copy("$srcdir/$f", "$confdir/$f") or die "copy $f: $!";
        }
        closedir $dh;
    }

    my $stmts = parse_conf($text);
    my %ports;
    my $main = rewrite($stmts, \%ports, $prefix, $srcdir);
    unshift @$main, { name => 'pid', args => ["$prefix/logs/nginx.pid"] }
        unless grep { $_->{name} eq 'pid' } @$main;
    my $new = render($main) . "\n";

    my $conf = "$confdir/" . ($rel =~ /\.conf\z/ ? basename($rel)
                                                 : 'nginx.conf');
    write_file($conf, $new);

    my ($rc, $out) = run_cmd(30, $NGINX, '-t', '-p', "$prefix/",
                             '-e', "$prefix/logs/error.log", '-c', $conf);
    $STARTABLE{$rel} = { prefix => $prefix, conf => $conf, ports => \%ports };
    return ($rc == 0, $out, $conf);
}

sub rewrite {
    my ($stmts, $ports, $prefix, $srcdir) = @_;
    my @out;

    for my $s (@$stmts) {
        my $name = $s->{name};
        my @a = @{ $s->{args} };
        my $http2;

        if ($name eq 'user') {
            next unless $ROOT;

        } elsif ($name eq 'load_module') {
            @a = ($MODULE) if $a[0] =~ /ngx_http_scim_module\.so$/;

        } elsif ($name eq 'pid') {
            @a = ("$prefix/logs/nginx.pid");

        } elsif ($name eq 'error_log') {
            $a[0] = "$prefix/logs/error.log"
                unless $a[0] =~ /^(?:stderr|syslog:|memory:)/;

        } elsif ($name eq 'access_log') {
            $a[0] = "$prefix/logs/access.log"
                unless $a[0] =~ /^(?:off|syslog:|memory:)/;

        } elsif ($name =~ /^(?:client_body|proxy|fastcgi|uwsgi|scgi)_temp_path$/) {
            next;       # the http block gets ours, below

        } elsif ($name eq 'listen') {
            my $addr = shift @a;
            $ports->{$addr} //= free_port($ports);
            @a = ("127.0.0.1:$ports->{$addr}",
                  grep { !/^(?:ipv6only=|reuseport$)/ } @a);
            if ($HTTP2_ON && grep { $_ eq 'http2' } @a) {
                @a = grep { $_ ne 'http2' } @a;
                $http2 = 1;
            }

        } elsif ($name eq 'ssl_certificate'
                 || $name eq 'ssl_trusted_certificate'
                 || $name eq 'ssl_client_certificate')
        {
            @a = ($CERT);

        } elsif ($name eq 'ssl_certificate_key') {
            @a = ($KEY);

        } elsif ($name eq 'scim_bearer_token_file') {
            # kept: "off", a file beside the example, a file of this
            # repository; any other (/etc/nginx/scim/...) -> a temp one
            my $f = $a[0];
            my $keep = $f eq 'off'
                || (File::Spec->file_name_is_absolute($f)
                    ? index($f, "$REPO/") == 0 && -f $f
                    : -f "$srcdir/$f");
            @a = ($TOKENS) unless $keep;

        } elsif ($name eq 'scim_oauth_clients' || $name eq 'scim_oauth_key') {
            # the same for the OAuth clients and signing keys
            my $f = $a[0];
            my $keep = File::Spec->file_name_is_absolute($f)
                       ? index($f, "$REPO/") == 0 && -f $f
                       : -f "$srcdir/$f";
            @a = ($name eq 'scim_oauth_key' ? $OAUTH_KEY : $OAUTH_CLIENTS)
                unless $keep;

        } elsif ($name eq 'scim_oauth_jwks') {
            # a JWKS not beside the example -> conf-examples' example one
            my $f = $a[0];
            my $keep = File::Spec->file_name_is_absolute($f)
                       ? index($f, "$REPO/") == 0 && -f $f
                       : -f "$srcdir/$f";
            @a = ("$EXAMPLES/entra.jwks.example") unless $keep;
        }

        my %n = (%$s, args => \@a, $http2 ? (http2 => 1) : ());

        if ($s->{children}) {
            my @c = @{ rewrite($s->{children}, $ports, $prefix, $srcdir) };
            # "http2 on;" on the line of the first listen that had http2
            for my $i (0 .. $#c) {
                next unless $c[$i]{http2};
                splice(@c, $i + 1, 0, { name => 'http2', args => ['on'],
                                        line => $c[$i]{line} });
                last;
            }
            if ($name eq 'http') {
                # nginx's default access log is /var/log/nginx/access.log
                unshift @c, { name => 'access_log',
                              args => ["$prefix/logs/access.log"] }
                    unless grep { $_->{name} eq 'access_log' } @c;
                unshift @c, map {
                    { name => "${_}_temp_path",
                      args => ["$prefix/temp/$_"] }
                } qw(client_body proxy fastcgi uwsgi scgi);
            }
            $n{children} = \@c;
        }

        push @out, \%n;
    }

    return \@out;
}

sub free_port {
    my ($used) = @_;
    my %taken = map { $_ => 1 } grep { defined } values %$used;
    for (1 .. 50) {
        my $s = IO::Socket::INET->new(Listen => 1, LocalAddr => '127.0.0.1',
                                      LocalPort => 0, Proto => 'tcp',
                                      ReuseAddr => 1) or next;
        my $p = $s->sockport;
        close $s;
        return $p if $p >= 1024 && !$taken{$p};
    }
    die "no free port\n";
}


# ------------------------------------------------- a small nginx.conf parser

# Statements: { name, args => [raw tokens], line, children => [...] }.
# Tokens keep their quotes, so rendering gives nginx the same words; each
# statement is rendered on its original line, so that nginx's messages
# name the line of the example.
sub parse_conf {
    my ($text) = @_;
    my @tok = tokenize($text);
    my $i = 0;
    my $stmts = parse_block(\@tok, \$i, 0);
    return $stmts;
}

sub parse_block {
    my ($tok, $i, $depth) = @_;
    my (@stmts, @words, $line);

    while ($$i < @$tok) {
        my ($t, $l) = @{ $tok->[$$i++] };

        if ($t eq ';' || $t eq '{') {
            die "line $l: statement without a name\n" unless @words;
            my %st = (name => shift(@words), args => [@words], line => $line);
            $st{children} = parse_block($tok, $i, $depth + 1) if $t eq '{';
            push @stmts, \%st;
            @words = ();

        } elsif ($t eq '}') {
            die "line $l: unexpected }\n" if $depth == 0 || @words;
            return \@stmts;

        } else {
            $line = $l unless @words;
            push @words, $t;
        }
    }

    die "unexpected end of file\n" if $depth || @words;
    return \@stmts;
}

# tokens: [text, line]
sub tokenize {
    my ($s) = @_;
    my @tok;
    my $len = length $s;
    my $i = 0;
    my $line = 1;

    while ($i < $len) {
        my $c = substr($s, $i, 1);

        if ($c eq "\n") {
            $line++;
            $i++;

        } elsif ($c =~ /\s/) {
            $i++;

        } elsif ($c eq '#') {
            $i++ while $i < $len && substr($s, $i, 1) ne "\n";

        } elsif ($c eq ';' || $c eq '{' || $c eq '}') {
            push @tok, [$c, $line];
            $i++;

        } elsif ($c eq '"' || $c eq "'") {
            my $j = $i + 1;
            while ($j < $len && substr($s, $j, 1) ne $c) {
                $j++ if substr($s, $j, 1) eq '\\';
                $j++;
            }
            die "line $line: unterminated string\n" if $j >= $len;
            my $t = substr($s, $i, $j - $i + 1);
            push @tok, [$t, $line];
            $line += ($t =~ tr/\n//);
            $i = $j + 1;

        } else {
            my $j = $i;
            while ($j < $len) {
                my $d = substr($s, $j, 1);
                if ($d eq '$' && substr($s, $j + 1, 1) eq '{') {   # ${var}
                    my $k = index($s, '}', $j);
                    die "line $line: unterminated \${\n" if $k < 0;
                    $j = $k + 1;
                    next;
                }
                last if $d =~ /[\s;{}]/;
                $j++;
            }
            push @tok, [substr($s, $i, $j - $i), $line];
            $i = $j;
        }
    }

    return @tok;
}

# statements -> text, each at its original line (added ones where they
# fall); $cur is the current output line
sub render {
    my ($stmts, $cur) = @_;
    my $out = '';
    $cur //= \(my $one = 1);

    for my $s (@$stmts) {
        if ($s->{line}) {
            while ($$cur < $s->{line}) {
                $out .= "\n";
                $$cur++;
            }
        }
        my $text = join(' ', $s->{name}, @{ $s->{args} });
        $$cur += ($text =~ tr/\n//);
        if ($s->{children}) {
            $out .= "$text { " . render($s->{children}, $cur) . "} ";
        } else {
            $out .= "$text; ";
        }
    }

    return $out;
}

# every statement named $name anywhere under $stmts (optionally matching)
sub find_stmts {
    my ($stmts, $name, $match) = @_;
    my @found;
    for my $s (@$stmts) {
        push @found, $s if $s->{name} eq $name && (!$match || $match->($s));
        push @found, find_stmts($s->{children}, $name, $match)
            if $s->{children};
    }
    return @found;
}


# ------------------------------------------------------------------ utils

# Run a command with a time limit; returns (exit code, stdout+stderr).
sub run_cmd {
    my ($timeout, @cmd) = @_;
    my $log = "$tmp/cmd.$$." . int(rand(1e9));

    my $pid = fork();
    die "fork: $!" unless defined $pid;

    if ($pid == 0) {
        open(STDIN, '<', '/dev/null');
        open(STDOUT, '>', $log) or POSIX::_exit(126);
        open(STDERR, '>&', \*STDOUT) or POSIX::_exit(126);
        exec(@cmd) or POSIX::_exit(127);
    }

    my $deadline = time + $timeout;
    my $status;

    while (1) {
        my $w = waitpid($pid, WNOHANG);
        if ($w == $pid) { $status = $?; last }
        if (time > $deadline) {
            kill 'KILL', $pid;
            waitpid($pid, 0);
            my $out = read_file($log) // '';
            unlink $log;
            return (-1, "$out\n(timed out after ${timeout}s: @cmd)");
        }
        sleep 0.05;
    }

    my $out = read_file($log) // '';
    unlink $log;
    return ($status >> 8, $out);
}

sub which {
    my ($prog) = @_;
    for my $d (split /:/, $ENV{PATH} // '') {
        return "$d/$prog" if -x "$d/$prog";
    }
    return undef;
}

sub read_file {
    my ($f) = @_;
    open(my $fh, '<', $f) or return undef;
    local $/;
    my $s = <$fh>;
    close $fh;
    return $s;
}

sub write_file {
    my ($f, $s) = @_;
    open(my $fh, '>', $f) or die "$f: $!";
    print $fh $s;
    close $fh or die "$f: $!";
}
