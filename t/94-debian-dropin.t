#!/usr/bin/perl

# conf-examples/conf.d/scim.conf drops into Debian's stock nginx.conf:
# a copy of /etc/nginx/nginx.conf (this machine's, as the nginx package
# installed it) with only the paths that cannot be used in a test
# rewritten (pid, logs, temp paths, the modules-enabled include -> our
# load_module, the conf.d include -> the example, the box's default site
# left out), and the example with its certificate, token file, Redis and
# port rewritten.  Then, over TLS (curl): the tenant answers, anything
# else on the name is a SCIM 404, and the example's access log format
# holds neither the userName of Entra's filter nor the token.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use ScimTest;

my $STOCK = '/etc/nginx/nginx.conf';
plan skip_all => "no $STOCK (Debian's nginx-common)" unless -f $STOCK;
plan skip_all => 'no curl' unless grep { -x "$_/curl" } split /:/, $ENV{PATH};
plan skip_all => 'no openssl' unless grep { -x "$_/openssl" } split /:/, $ENV{PATH};

my $t = ScimTest->new(workers => 1);
my $dir = $t->dir;
my $port = $t->port;
my $repo = $t->repo;

system("openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=scim.example.com"
       . " -days 1 -keyout '$dir/key.pem' -out '$dir/cert.pem' >/dev/null 2>&1")
    == 0 or BAIL_OUT('openssl req failed');

# ---- the stock nginx.conf, paths rewritten

my $stock = $t->read_file($STOCK) // '';
my %seen;
my @out = ("daemon off;\n");
for my $line (split /^/, $stock) {
    my $l = $line;
    if ($l =~ /^\s*user\s/) {
        $l = $> == 0 ? "user root;\n" : "# $l";
        $seen{user} = 1;
    } elsif ($l =~ /^\s*worker_processes\s/) {
        $l = "worker_processes 1;\n";
    } elsif ($l =~ /^\s*pid\s/) {
        $l = "pid $dir/nginx.pid;\n";
        $seen{pid} = 1;
    } elsif ($l =~ /^\s*error_log\s/) {
        $l = "error_log $dir/error.log info;\n";
    } elsif ($l =~ m{^\s*include\s+/etc/nginx/modules-enabled/}) {
        $l = "load_module ${\ $t->module };\n";
        $seen{modules} = 1;
    } elsif ($l =~ /^\s*access_log\s/) {
        $l = "access_log $dir/access.log;\n";
    } elsif ($l =~ m{^\s*include\s+/etc/nginx/conf\.d/\*\.conf;}) {
        $l = join '', map({ "${_}_temp_path $dir/$_;\n" }
                          qw(client_body proxy fastcgi uwsgi scgi)),
                      "include $dir/conf.d/*.conf;\n";
        $seen{confd} = 1;
    } elsif ($l =~ m{^\s*include\s+/etc/nginx/sites-enabled/}) {
        $l = "# the box's default site (port 80) left out\n";
    }
    push @out, $l;
}
ok($seen{pid} && $seen{modules} && $seen{confd},
   'the stock nginx.conf has pid, the modules-enabled and conf.d includes');
$t->write_file('nginx.conf', join '', @out);

# ---- the example, as an operator would fill it in

my $ex = $t->read_file("$repo/conf-examples/conf.d/scim.conf")
    // BAIL_OUT('no conf-examples/conf.d/scim.conf');
unlike($ex, qr/^\s*(?:http|events|load_module)\b/m,
       'the snippet holds no http, events or load_module');
unlike($ex, qr/^\s*log_format\b[^;]*\$(?:request|request_uri|args|query_string|http_authorization)\b/m,
       'its log_format names neither the request line, the query nor the token');

$ex =~ s{^(\s*)listen\s+443\s+ssl\s+http2;}{$1listen 127.0.0.1:$port ssl http2;}m
    or fail('the example listens on 443 ssl http2');
$ex =~ s{^\s*listen\s+\[::\]:443[^;]*;\n}{}m;
$ex =~ s{^(\s*ssl_certificate)\s+\S+;}{$1 $dir/cert.pem;}m;
$ex =~ s{^(\s*ssl_certificate_key)\s+\S+;}{$1 $dir/key.pem;}m;
$ex =~ s{/var/log/nginx/scim\.access\.log}{$dir/scim.access.log};
$ex =~ s{^(\s*scim_redis)\s+\S+;}{$1 127.0.0.1:${\ $t->redis_port };}m;
$ex =~ s{^(\s*scim_bearer_token_file)\s+\S+;}{$1 ${\ $t->token_file };}m;
mkdir "$dir/conf.d";
$t->write_file('conf.d/scim.conf', $ex);

$t->start_nginx_ok('nginx starts with the stock nginx.conf and the drop-in');

# ---- over TLS, HTTP/2 and HTTP/1.1

sub curl {
    my ($method, $path, %o) = @_;
    my @cmd = ('curl', '-sk', '-o', "$dir/curl.body", '-D', "$dir/curl.hdr",
        '-w', '%{http_code} %{http_version}', '--max-time', '10',
        $o{http1} ? '--http1.1' : '--http2',
        '--resolve', "scim.example.com:$port:127.0.0.1", '-X', $method);
    push @cmd, '-H', 'Authorization: Bearer ' . $t->token unless $o{no_token};
    if (defined $o{body}) {
        push @cmd, '-H', 'Content-Type: application/scim+json',
                   '--data-binary', $o{body};
    }
    push @cmd, "https://scim.example.com:$port$path";
    open(my $fh, '-|', @cmd) or die "curl: $!";
    my $w = <$fh> // '';
    close $fh;
    my ($status, $ver) = split ' ', $w;
    my $hdr = $t->read_file("$dir/curl.hdr") // '';
    my ($ct) = $hdr =~ /^content-type:\s*([^\r\n]+)/mi;
    my $body = $t->read_file("$dir/curl.body") // '';
    return { status => $status // 0, version => $ver // '',
             ctype => $ct // '', content => $body,
             json => json_decode($body) };
}

my $name = 'dropin.' . unique_name();
my $r = curl('POST', '/scim/v2/Users',
             body => json_encode({ schemas => [URN_USER], userName => $name }));
is($r->{status}, 201, 'POST /scim/v2/Users over HTTP/2: 201');
is($r->{version}, '2', '... it was HTTP/2');

$r = curl('GET', '/scim/v2/Users?' . entra_filter_qs('userName', $name),
         http1 => 1);
is($r->{status}, 200, "Entra's filter over HTTP/1.1: 200");
is($r->{json}{totalResults}, 1, '... finds the user');

$r = curl('GET', '/scim/v2/Users', no_token => 1);
is($r->{status}, 401, 'no token: 401');
like($r->{ctype}, qr{^application/scim\+json}, '... as SCIM JSON');

for my $p ('/', '/index.html', '/other/Users') {
    $r = curl('GET', $p);
    is($r->{status}, 404, "GET $p: 404");
    like($r->{ctype}, qr{^application/scim\+json}, "... as SCIM JSON ($p)");
    is(($r->{json}{schemas} // [])->[0],
       'urn:ietf:params:scim:api:messages:2.0:Error', "... a SCIM error ($p)");
    ok($r->{content} !~ /<html|<center/i, "... no HTML ($p)");
}

# ---- health and metrics, from this host, without a token

$r = curl('GET', '/scim-health', no_token => 1);
is($r->{status}, 200, 'GET /scim-health from 127.0.0.1: 200');
is($r->{json}{status}, 'ok', '... status ok');
$r = curl('GET', '/scim-status?format=prometheus', no_token => 1);
is($r->{status}, 200, 'GET /scim-status?format=prometheus: 200');
like($r->{content}, qr/^scim_requests_total\{/m, '... Prometheus text');

# ---- the access log: useful, and without PII or the token

my @lines;
for (1 .. 50) {
    @lines = split /\n/, ($t->read_file('scim.access.log') // '');
    last if @lines >= 6;
    select undef, undef, undef, 0.1;
}
ok(@lines >= 6, 'scim.access.log has a line per request') or diag(join "\n", @lines);
like($lines[0] // '', qr/ POST create Users\/[0-9a-f-]{36} 201 .* tenant=contoso /,
     'a create: operation, resource, new id, status, tenant');
like($lines[1] // '', qr/ GET list Users\/- 200 .* tenant=contoso /, 'the filter: list');
my $all = join "\n", @lines;
unlike($all, qr/\Q$name\E|dropin/, 'no userName (the filter\'s PII) in the log');
my $tok = $t->token;
unlike($all, qr/\Q$tok\E/, 'no token in the log');

$t->finish;
