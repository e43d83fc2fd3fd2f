#!/usr/bin/perl

# scim_status (issue 12): the counters of the shared zone as JSON and in
# the Prometheus text format (0.0.4).  Counts move as requests are made
# (create 201 -> create 2xx, a 404 -> read 4xx, 401s -> auth failures by
# reason, a bad OAuth client -> invalid_client and token 4xx), the
# latency histogram counts every request, both formats parse and agree,
# counters add up over 2 workers (N requests over many connections: the
# sum moves by exactly N), each worker's connections, per-tenant counts
# bounded (scim_status_tenants on 3: the first 3, then "other"), a
# reload keeps the counters, Redis down moves the unavailable errors and
# 5xx; 405, a bad format 400; configuration mistakes fail nginx -t.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Time::HiRes qw(time sleep);
use Digest::SHA qw(sha256_hex);
use ScimTest;

my $t = ScimTest->new(workers => 2, timeout => 300,
    no_cluster => 'stops the one redis-server');

$t->write_file('key.hex', sha256_hex("k$$" . rand()) . "\n");
my $secret = 'client-secret-' . sha256_hex(rand());
$t->write_file('clients', "acme app-acme $secret\n");

my $http = <<'EOF';
scim_oauth_key %%DIR%%/key.hex;
scim_oauth_clients %%DIR%%/clients;
scim_redis %%REDIS%%;
scim_redis_connect_timeout 1s;
scim_redis_timeout 2s;
scim_status_tenants on 3;

server {
    listen 127.0.0.1:%%PORT%%;

    location = /oauth2/token {
        scim_oauth_token;
    }

    location /scim/v2/ {
        scim;
        scim_tenant acme;
        scim_bearer_token_file %%TOKEN_FILE%%;
    }

    location /mt/scim/v2/ {
        scim;
        scim_tenant $http_x_tenant;
        scim_bearer_token_file %%TOKEN_FILE%%;
    }

    location = /status {
        scim_status;
        allow 127.0.0.1;
        deny all;
    }
}
EOF
$t->write_config($http);
$t->start_nginx_ok;

sub status_json {
    my $r = $t->request('GET', '/status', token => undef, keepalive => 0);
    return $r->{status} == 200 && ref $r->{json} eq 'HASH' ? $r->{json}
                                                           : undef;
}

# the log phase runs right after the answer is written: wait for it
sub wait_for {
    my ($cond) = @_;
    my $s;
    for (1 .. 100) {
        $s = status_json();
        return $s if $s && $cond->($s);
        sleep 0.05;
    }
    return $s;
}

sub req  { my ($s, $op, $cls) = @_; $s->{requests}{$op}{$cls} // -1 }
sub auth { my ($s, $why) = @_; $s->{auth_failures}{$why} // -1 }

# ------------------------------------------------------------ shapes

my $r = $t->request('GET', '/status', token => undef);
is($r->{status}, 200, 'GET /status: 200');
like($r->{headers}{'content-type'} // '', qr{^application/json},
     'JSON');
is($r->{headers}{'cache-control'}, 'no-store', 'Cache-Control: no-store');
my $s0 = $r->{json};
ok(ref $s0 eq 'HASH', 'a JSON object') or diag $r->{content};
is_deeply([sort keys %{$s0->{requests} // {}}],
          [sort qw(create read list replace patch delete search bulk
                   discovery token other)], 'requests: every operation');
is_deeply([sort keys %{$s0->{requests}{create} // {}}],
          [qw(2xx 3xx 4xx 5xx)], 'by status class');
is_deeply([sort keys %{$s0->{auth_failures} // {}}],
          [sort qw(no_token unknown_token other_tenant invalid_access_token
                   invalid_client)], 'auth failures by reason');
ok(defined $s0->{latency_ms}{buckets}{'+Inf'}
   && defined $s0->{latency_ms}{sum}, 'a latency histogram');

for my $m (qw(POST DELETE)) {
    $r = $t->request($m, '/status', token => undef, body => '{}');
    is($r->{status}, 405, "$m /status: 405");
    ok(ref $r->{json} eq 'HASH', '... JSON');
}

$r = $t->request('GET', '/status?format=xml', token => undef);
is($r->{status}, 400, 'an unknown format: 400');

# ------------------------------------------------------ counts move

my $s = status_json();
$r = $t->create_user(entra_user(userName => 'status@example.com'));
is($r->{status}, 201, 'create: 201');
my $id = $r->{json}{id} // 'none';
my $s1 = wait_for(sub { req($_[0], 'create', '2xx')
                        == req($s, 'create', '2xx') + 1 });
is(req($s1, 'create', '2xx'), req($s, 'create', '2xx') + 1,
   'create 2xx +1');

$s = $s1;
$r = $t->get('Users/2819c223-7f76-453a-919d-413861904646');
is($r->{status}, 404, 'a missing user: 404');
$s1 = wait_for(sub { req($_[0], 'read', '4xx') == req($s, 'read', '4xx') + 1 });
is(req($s1, 'read', '4xx'), req($s, 'read', '4xx') + 1, 'read 4xx +1');
is(req($s1, 'create', '2xx'), req($s, 'create', '2xx'), 'create unchanged');

$s = $s1;
$r = $t->get("Users/$id", token => undef);
is($r->{status}, 401, 'no token: 401');
$r = $t->get("Users/$id", token => 'not-a-token-of-ours');
is($r->{status}, 401, 'an unknown token: 401');
# (a refusal's reason is counted when it is refused, its request in the
# log phase after the answer: wait for both)
$s1 = wait_for(sub { auth($_[0], 'unknown_token')
                     == auth($s, 'unknown_token') + 1
                     && req($_[0], 'other', '4xx')
                        == req($s, 'other', '4xx') + 2 });
is(auth($s1, 'no_token'), auth($s, 'no_token') + 1, 'auth no_token +1');
is(auth($s1, 'unknown_token'), auth($s, 'unknown_token') + 1,
   'auth unknown_token +1');
is(req($s1, 'other', '4xx'), req($s, 'other', '4xx') + 2,
   'refused before routing: op "other", 4xx +2');

$s = $s1;
$r = $t->request('POST', '/oauth2/token', token => undef,
                 ctype => 'application/x-www-form-urlencoded',
                 body => 'grant_type=client_credentials&client_id=app-acme'
                         . '&client_secret=wrong');
is($r->{status}, 401, 'token endpoint, a wrong secret: 401');
$r = $t->request('POST', '/oauth2/token', token => undef,
                 ctype => 'application/x-www-form-urlencoded',
                 body => 'grant_type=client_credentials&client_id=app-acme'
                         . "&client_secret=$secret");
is($r->{status}, 200, 'token endpoint, the right secret: 200');
$s1 = wait_for(sub { req($_[0], 'token', '2xx') == req($s, 'token', '2xx') + 1
                     && req($_[0], 'token', '4xx')
                        == req($s, 'token', '4xx') + 1 });
is(auth($s1, 'invalid_client'), auth($s, 'invalid_client') + 1,
   'auth invalid_client +1');
is(req($s1, 'token', '4xx'), req($s, 'token', '4xx') + 1, 'token 4xx +1');
is(req($s1, 'token', '2xx'), req($s, 'token', '2xx') + 1, 'token 2xx +1');

# an access token of another tenant's... expired one is not at hand: a
# token that looks like ours but is not signed by our key
$s = $s1;
$r = $t->get("Users/$id", token => 'eyJhbGciOiJIUzI1NiJ9.e30.c2ln');
is($r->{status}, 401, 'a forged access token: 401');
$s1 = wait_for(sub { auth($_[0], 'invalid_access_token')
                     + auth($_[0], 'unknown_token')
                     == auth($s, 'invalid_access_token')
                        + auth($s, 'unknown_token') + 1
                     && req($_[0], 'other', '4xx')
                        == req($s, 'other', '4xx') + 1 });
is(auth($s1, 'invalid_access_token') + auth($s1, 'unknown_token'),
   auth($s, 'invalid_access_token') + auth($s, 'unknown_token') + 1,
   'counted as an invalid access token or an unknown token');

# ------------------------------------------------ latency histogram

{
    my $bk = $s1->{latency_ms}{buckets};
    my @k = sort { ($a eq '+Inf' ? 1e9 : $a) <=> ($b eq '+Inf' ? 1e9 : $b) }
            keys %$bk;
    is_deeply([@k], [qw(1 2.5 5 10 25 50 100 250 500 1000 2500 +Inf)],
              'buckets 1 .. 2500 ms, +Inf');
    my @v = map { $bk->{$_} } @k;
    ok(!grep({ $v[$_] < $v[$_ - 1] } 1 .. $#v), 'cumulative');
    my $total = 0;
    for my $op (values %{$s1->{requests}}) { $total += $_ for values %$op }
    is($bk->{'+Inf'}, $total, "+Inf = every request counted ($total)");
    is($s1->{latency_ms}{count}, $total, 'count too');
}

# -------------------------------------------------- two workers add up

$s = status_json();
my $N = 40;
my $res = $t->parallel(4, sub {
    my $ok = 0;
    for (1 .. $N / 4) {
        $ok++ if $t->get("Users/$id", keepalive => 0)->{status} == 200;
    }
    return $ok;
});
my $okn = 0;
$okn += $_ // 0 for @$res;
is($okn, $N, "$N reads over $N connections: 200");
$s1 = wait_for(sub { req($_[0], 'read', '2xx') >= req($s, 'read', '2xx') + $N });
sleep 0.3;
$s1 = status_json();
is(req($s1, 'read', '2xx'), req($s, 'read', '2xx') + $N,
   "read 2xx moved by exactly $N");

# each worker writes its slot every second
$s1 = wait_for(sub { 2 == grep { ($_->{connected} // 0) >= 1 }
                          @{$_[0]{connections} // []} });
my %workers = map { $_->{worker} => $_ } @{$s1->{connections} // []};
is(scalar(keys %workers), 2, 'connections: a row for each of 2 workers')
    or diag explain $s1->{connections};
ok(!grep({ ($_->{connected} // 0) < 1 } values %workers),
   'each worker connected to Redis') or diag explain $s1->{connections};
my $addr = '127.0.0.1:' . $t->redis_port;
ok(!grep({ ($_->{redis} // '') ne $addr } values %workers),
   "labelled with the Redis ($addr)");
ok(($s1->{redis}{commands} // 0) >= $N, 'Redis round trips counted');
ok(($s1->{redis}{connects} // 0) >= 2, 'connections made counted');

# ------------------------------------------------------------ tenants

for my $tn (qw(t1 t2 t3 t4 t5)) {
    $r = $t->get('/mt/scim/v2/Users?count=1',
                 headers => { 'X-Tenant' => $tn });
    is($r->{status}, 200, "tenant $tn: a list");
}
$s1 = wait_for(sub { my $o = $_[0]{tenants_other}{'2xx'} // 0; $o >= 2 });
my @named = sort keys %{$s1->{tenants} // {}};
is(scalar @named, 3, 'three tenants by name (scim_status_tenants on 3)')
    or diag explain $s1->{tenants};
ok(($s1->{tenants}{acme}{'2xx'} // 0) >= $N, 'acme (the first) counted');
ok(($s1->{tenants_other}{'2xx'} // 0) >= 2, 'the rest under "other"');

# -------------------------------------------------------- Prometheus

$r = $t->request('GET', '/status?format=prometheus', token => undef);
is($r->{status}, 200, 'Prometheus: 200');
like($r->{headers}{'content-type'} // '',
     qr{^text/plain; version=0\.0\.4}, 'text/plain; version=0.0.4');
my @bad = grep {
    !/^# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* \S/
    && !/^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*"
         (,[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*")*\})?\x20
         (-?[0-9]+(\.[0-9]+)?|\+Inf)$/x
} split /\n/, $r->{content} // '';
is_deeply(\@bad, [], 'every line: name{labels} value, or # HELP / # TYPE');
my %prom;
for (split /\n/, $r->{content} // '') {
    next if /^#/;
    my ($k, $v) = /^(\S+) (\S+)$/ or next;
    $prom{$k} = $v;
}
my $sj = status_json();
ok(abs(($prom{'scim_requests_total{op="create",class="2xx"}'} // -1)
       - req($sj, 'create', '2xx')) == 0,
   'create 2xx: the same in both formats');
is($prom{'scim_auth_failures_total{reason="no_token"}'},
   auth($sj, 'no_token'), 'auth no_token: the same');
ok(defined $prom{'scim_request_duration_seconds_bucket{le="0.001"}'}
   && defined $prom{'scim_request_duration_seconds_bucket{le="2.5"}'}
   && defined $prom{'scim_request_duration_seconds_bucket{le="+Inf"}'},
   'histogram buckets in seconds');
ok(defined $prom{'scim_request_duration_seconds_count'}
   && defined $prom{'scim_request_duration_seconds_sum'}, '_sum, _count');
ok(defined $prom{qq(scim_redis_connections{worker="0",redis="$addr",)
                 . qq(state="connected"})}
   && defined $prom{qq(scim_redis_connections{worker="1",redis="$addr",)
                    . qq(state="connected"})},
   'connections: worker="0" and worker="1"');
ok(defined $prom{'scim_tenant_requests_total{tenant="acme",class="2xx"}'},
   'a tenant by name');
ok(defined $prom{'scim_tenant_other_requests_total{class="2xx"}'},
   'the other tenants');
ok(defined $prom{'scim_redis_errors_total{kind="unavailable"}'}
   && defined $prom{'scim_redis_reconnects_total'}, 'Redis errors, '
   . 'reconnects');

# ------------------------------------------------------------ reload

$s = status_json();
ok($t->reload, 'reload (same zone name and size)');
$s1 = status_json();
ok($s1 && req($s1, 'read', '2xx') >= req($s, 'read', '2xx'),
   'the counters survive a reload');
is($s1->{reloads}, ($s->{reloads} // 0) + 1, 'reloads +1');
is($s1->{since}, $s->{since}, 'the same start');

# ------------------------------------------- Redis answers an error

$s = status_json();
$t->redis_cmd('RENAME', 'scim:{acme}:User:ids', 'scim:{acme}:User:ids.saved');
$t->redis_cmd('SET', 'scim:{acme}:User:ids', 'wrong type');
$r = $t->list(count => 5);
ok($r->{status} >= 500, "a key of the wrong type: list -> $r->{status}");
$t->redis_cmd('DEL', 'scim:{acme}:User:ids');
$t->redis_cmd('RENAME', 'scim:{acme}:User:ids.saved', 'scim:{acme}:User:ids');
$s1 = wait_for(sub { req($_[0], 'list', '5xx') == req($s, 'list', '5xx') + 1 });
is(req($s1, 'list', '5xx'), req($s, 'list', '5xx') + 1, 'list 5xx +1');
is(($s1->{redis}{refused} // 0) + ($s1->{redis}{bad_reply} // 0),
   ($s->{redis}{refused} // 0) + ($s->{redis}{bad_reply} // 0) + 1,
   'a Redis error counted (refused or bad_reply)')
    or diag explain [$s->{redis}, $s1->{redis}];

# ------------------------------------------------------- Redis down

$s = status_json();
$t->stop_redis;
$r = $t->get("Users/$id");
is($r->{status}, 503, 'Redis stopped: 503');
$s1 = wait_for(sub { req($_[0], 'read', '5xx') == req($s, 'read', '5xx') + 1 });
is(req($s1, 'read', '5xx'), req($s, 'read', '5xx') + 1, 'read 5xx +1');
ok(($s1->{redis}{connect_failures} // 0) > ($s->{redis}{connect_failures}
                                             // 0)
   || ($s1->{redis}{unavailable} // 0) > ($s->{redis}{unavailable} // 0),
   'Redis failures counted');
ok($t->start_redis, 'Redis back');
my $back;
for (1 .. 40) {
    # the user went with the data (no persistence): a list works
    if ($t->get('Users?count=1')->{status} == 200) { $back = 1; last }
    sleep 0.25;
}
ok($back, 'reads work again');
$s1 = wait_for(sub { ($_[0]{redis}{reconnects} // 0)
                     > ($s->{redis}{reconnects} // 0) });
ok(($s1->{redis}{reconnects} // 0) > ($s->{redis}{reconnects} // 0),
   'a reconnect counted');

# ------------------------------------------------------ configuration

my ($ok, $out) = $t->nginx_t("server {\n listen 127.0.0.1:%%PORT%%;\n"
    . " location /s/ {\n  scim;\n  scim_status;\n"
    . "  scim_bearer_token_file %%TOKEN_FILE%%;\n }\n}\n");
ok(!$ok, 'scim_status in a scim location: nginx -t fails');
like($out, qr/cannot be in a location with "scim"/, '... saying why');

($ok, $out) = $t->nginx_t("scim_status_zone z 32k;\n"
    . "scim_status_tenants on 10000;\n"
    . "server {\n listen 127.0.0.1:%%PORT%%;\n"
    . " location = /st { scim_status; }\n}\n");
ok(!$ok, 'a zone too small for its tenants: nginx -t fails');
like($out, qr/too small/, '... saying so') or diag $out;

($ok, $out) = $t->nginx_t("scim_status_tenants maybe;\n"
    . "server {\n listen 127.0.0.1:%%PORT%%;\n"
    . " location = /st { scim_status; }\n}\n");
ok(!$ok, 'scim_status_tenants maybe: nginx -t fails');

($ok, $out) = $t->nginx_t("scim_status_zone stats 1m;\n"
    . "server {\n listen 127.0.0.1:%%PORT%%;\n"
    . " location = /st { scim_status; }\n"
    . " location = /hc { scim_health; }\n}\n");
ok($ok, 'scim_status_zone stats 1m, scim_health: nginx -t ok') or diag $out;

$t->{allow_log} = qr/scim redis|onnection refused|WRONGTYPE/;
$t->finish;
