#!/usr/bin/perl

# Credentials in Redis (issue 10) with scim_redis_sentinel: a bearer
# token and an OAuth client written on the primary by
# tools/scim-credentials are read through the primary the Sentinels
# name, at the scim location and at a per-tenant token endpoint;
# after a failover the replicated credentials still work, and
# revocations written on the new primary are seen.  One primary, one replica, three
# Sentinels (t/lib/ScimSentinel.pm).  Takes about 10 s.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use MIME::Base64 qw(encode_base64);
use Time::HiRes qw(time sleep);
use ScimTest;
use ScimSentinel;

my $t = ScimTest->new(workers => 1, redis => 0, timeout => 300);
my $s = ScimSentinel->new($t, replicas => 1, sentinels => 3);
my $dir = $t->dir;
my $cli = $t->repo . '/tools/scim-credentials';

$t->write_file('key.hex', ('ab' x 32) . "\n");

$t->write_config(<<"EOF");
scim_redis_sentinel ${\ $s->directive};
scim_oauth_key %%DIR%%/key.hex;
scim_redis_credentials on;
scim_redis_credentials_cache 0;
scim_redis_connect_timeout 2s;
scim_redis_timeout 2s;

server {
    listen 127.0.0.1:%%PORT%%;

    location ~ ^/oauth2/([a-z0-9-]+)/token\$ {
        scim_oauth_token;
        scim_tenant \$1;
    }

    location ~ ^/([a-z0-9-]+)/scim/v2/ {
        scim;
        scim_tenant \$1;
    }
}
EOF
$t->start_nginx_ok;

sub cli {
    my @args = @_;
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        open STDOUT, '>', "$dir/out" or exit 99;
        open STDERR, '>', "$dir/err" or exit 99;
        exec $^X, $cli, '-p', $s->primary_port, @args;
        exit 99;
    }
    waitpid($pid, 0);
    my $out = $t->read_file('out') // '';
    chomp $out;
    return ($? >> 8, $out);
}

sub users {
    my ($tenant, $tok) = @_;
    return $t->get("/$tenant/scim/v2/Users?count=1", token => $tok);
}

sub grant {
    my ($id, $secret) = @_;
    my $r = $t->request('POST', '/oauth2/acme/token',
        body => 'grant_type=client_credentials', token => undef,
        ctype => 'application/x-www-form-urlencoded',
        headers => { Authorization =>
                     'Basic ' . encode_base64("$id:$secret", '') });
    my $j = eval { json_decode($r->{content}) } // {};
    return ($r->{status}, $j->{access_token});
}

my ($rc, $tok) = cli(qw(token create acme));
is($rc, 0, 'a token created on the primary');
is(users('acme', $tok)->{status}, 200,
   'the Redis token works through the Sentinels\' primary');
is_scim_error(users('globex', $tok), 401, undef, 'not on another tenant');

my ($rc2, $secret) = cli(qw(client create acme entra));
is($rc2, 0, 'a client created');
my ($st, $at) = grant('entra', $secret);
is($st, 200, 'the token endpoint grants it');
is(users('acme', $at)->{status}, 200, 'its access token works');

# the replica has them before the failover
ok($s->wait_synced(30), 'the replica is in sync');

my $old = $s->primary_port;
$s->failover;
my $new = $s->wait_new_primary($old, 60);
ok($new, 'a failover: a new primary');

my $end = time + 30;
my $r;
while (1) {
    $r = users('acme', $tok);
    last if $r->{status} == 200 || time > $end;
    sleep 0.2;
}
is($r->{status}, 200, 'after the failover the token works');
is(users('acme', $at)->{status}, 200, 'and the access token');
($st) = grant('entra', $secret);
is($st, 200, 'and the client');

# revocation on the new primary
($rc) = cli(qw(client revoke-tokens acme entra));
is($rc, 0, 'revoke-tokens on the new primary');
is_scim_error(users('acme', $at), 401, undef,
              'the earlier access token is refused');
($rc) = cli(qw(token revoke acme --all));
is($rc, 0, 'all tokens revoked');
is_scim_error(users('acme', $tok), 401, undef, 'the token is refused');

$t->{allow_log} = qr/sentinel|Sentinel|redis|Redis|READONLY|primary/;
$s->finish;
$t->finish;
