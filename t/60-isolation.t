#!/usr/bin/perl

# Two SCIM locations with different scim_tenant and token files are fully
# isolated: tokens not interchangeable, users invisible across, the same
# userName allowed in both, no cross-tenant reads or writes, separate
# Redis keys; scim_tenant $host isolates by Host header.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use ScimTest;

my $t = ScimTest->new(workers => 2);
my $port = $t->port;

my ($ta, $tb, $th) = map { sprintf("tok-%s-%012d", $_, int(rand(1e12))) } qw(alpha beta host);
$t->write_tokens('tokens-a', '# alpha', $ta);
$t->write_tokens('tokens-b', '# beta', $tb);
$t->write_tokens('tokens-h', $th);

$t->write_config(<<'EOF');
server {
    listen 127.0.0.1:%%PORT%%;
    server_name localhost;

    location /a/scim/v2/ {
        scim;
        scim_redis %%REDIS%%;
        scim_tenant alpha;
        scim_bearer_token_file %%DIR%%/tokens-a;
    }

    location /b/scim/v2/ {
        scim;
        scim_redis %%REDIS%%;
        scim_tenant beta;
        scim_bearer_token_file %%DIR%%/tokens-b;
    }

    location /h/scim/v2/ {
        scim;
        scim_redis %%REDIS%%;
        scim_tenant $host;
        scim_bearer_token_file %%DIR%%/tokens-h;
    }
}
EOF
$t->start_nginx_ok;

my $A = '/a/scim/v2';
my $B = '/b/scim/v2';

# ---------------------------------------------------------------- tokens

is_scim_error($t->get("$A/Users?count=0", token => $tb), 401, undef, "beta's token refused by alpha");
is_scim_error($t->get("$B/Users?count=0", token => $ta), 401, undef, "alpha's token refused by beta");
is_scim_error($t->post("$B/Users", entra_user(), token => $ta), 401, undef,
              "alpha's token cannot POST to beta");
is_scim_error($t->get("$A/Users?count=0", token => $t->token), 401, undef, 'an unrelated token refused');
is_list_response($t->get("$A/Users?count=0", token => $ta), 0, 0, "alpha's token works on alpha");
is_list_response($t->get("$B/Users?count=0", token => $tb), 0, 0, "beta's token works on beta");

# ----------------------------------------------------------------- users

my $ra = $t->post("$A/Users", entra_user(userName => 'same@example.com', externalId => 'same-ext',
                                         displayName => 'Alpha Same'), token => $ta);
is_scim_json($ra, 201, 'alpha: POST same@example.com');
my $rb = $t->post("$B/Users", entra_user(userName => 'SAME@example.com', externalId => 'same-ext',
                                         displayName => 'Beta Same'), token => $tb);
is_scim_json($rb, 201, 'beta: the same userName and externalId -> 201 (no cross-tenant 409)');
my ($ida, $idb) = ($ra->{json}{id} // 'a-none', $rb->{json}{id} // 'b-none');
isnt($ida, $idb, 'different ids');
is($ra->{json}{meta}{location}, "http://127.0.0.1:$port$A/Users/$ida", "alpha's meta.location under /a");
is($rb->{json}{meta}{location}, "http://127.0.0.1:$port$B/Users/$idb", "beta's meta.location under /b");

my $onlya = $t->post("$A/Users", entra_user(userName => 'only.alpha@example.com',
                                            displayName => 'Only Alpha'), token => $ta);
my $oid = $onlya->{json}{id} // 'o-none';

is_scim_error($t->get("$B/Users/$ida", token => $tb), 404, undef, "beta cannot GET alpha's user");
is_scim_error($t->get("$B/Users/$oid", token => $tb), 404, undef, "beta cannot GET alpha's other user");
is_scim_error($t->get("$A/Users/$idb", token => $ta), 404, undef, "alpha cannot GET beta's user");
is_list_response($t->get("$B/Users?" . qs(filter => 'userName eq "only.alpha@example.com"'), token => $tb),
                 0, 0, "beta's filter does not find alpha's user");
is_list_response($t->get("$B/Users?" . qs(filter => 'externalId eq "same-ext"'), token => $tb),
                 1, 1, "beta's externalId filter finds only beta's user");
is(($t->get("$B/Users?" . qs(filter => 'externalId eq "same-ext"'), token => $tb)->{json}{Resources} // [{}])->[0]{id},
   $idb, '... which is beta\'s');
is_list_response($t->get("$A/Users?count=0", token => $ta), 2, 0, 'alpha lists 2 users');
is_list_response($t->get("$B/Users?count=0", token => $tb), 1, 0, 'beta lists 1 user');
is_list_response($t->get("$B/Users", token => $tb), 1, 1, "beta's full list has only its user");

# no cross-tenant writes
is_scim_error($t->patch("$B/Users/$oid", patch_body({ op => 'Replace', path => 'displayName', value => 'hacked' }),
                        token => $tb), 404, undef, "beta cannot PATCH alpha's user");
is_scim_error($t->put("$B/Users/$oid", entra_user(userName => 'only.alpha@example.com'), token => $tb),
              404, undef, "beta cannot PUT alpha's user");
is_scim_error($t->delete("$B/Users/$oid", token => $tb), 404, undef, "beta cannot DELETE alpha's user");
my $g = $t->get("$A/Users/$oid", token => $ta);
is($g->{status}, 200, "alpha's user still there");
is($g->{json}{displayName}, 'Only Alpha', '... unchanged');

# a manager id from the other tenant is no user there (issue 11: a
# manager must exist)
my $r = $t->patch("$B/Users/$idb", patch_body({ op => 'Add', path => 'manager', value => $oid }), token => $tb);
is_scim_error($r, 400, 'invalidValue', "beta cannot set a manager id that only exists in alpha");
my $mg = scim_get_path($t->get("$B/Users/$idb", token => $tb)->{json}, URN_ENT . ':manager');
ok(!defined $mg, "... beta's user has no manager");

# deleting in alpha leaves beta's same-named user
is($t->delete("$A/Users/$ida", token => $ta)->{status}, 204, 'alpha deletes same@example.com');
is_scim_json($t->get("$B/Users/$idb", token => $tb), 200, "beta's same\@example.com still there");
is_list_response($t->get("$B/Users?" . qs(filter => 'userName eq "same@example.com"'), token => $tb),
                 1, 1, "beta still finds its same\@example.com");

# Redis key namespaces
ok(defined $t->redis_cmd('HGET', "scim:{alpha}:User:docs", $oid), "alpha's user under scim:{alpha}:");
ok(defined $t->redis_cmd('HGET', "scim:{beta}:User:docs", $idb), "beta's user under scim:{beta}:");
ok(!defined $t->redis_cmd('HGET', "scim:{beta}:User:docs", $oid), "alpha's id absent from beta's keys");
is($t->redis_cmd('ZCARD', 'scim:{alpha}:User:ids'), 1, 'alpha ids zset: 1');
is($t->redis_cmd('ZCARD', 'scim:{beta}:User:ids'), 1, 'beta ids zset: 1');
is($t->redis_cmd('HGET', 'scim:{beta}:User:idx:userName', 'same@example.com'), $idb,
   "beta's index has its own entry");
is($t->redis_cmd('HGET', 'scim:{alpha}:User:idx:userName', 'same@example.com'), undef,
   "alpha's index entry went with the delete");

# ----------------------------------------------------- scim_tenant $host

my $H = '/h/scim/v2';
my $h1 = $t->post("$H/Users", entra_user(userName => 'host@example.com'), token => $th,
                  host => "tenant-one.example:$port");
is_scim_json($h1, 201, 'POST with Host tenant-one.example');
my $h2 = $t->post("$H/Users", entra_user(userName => 'host@example.com'), token => $th,
                  host => "tenant-two.example:$port");
is_scim_json($h2, 201, 'the same userName with Host tenant-two.example -> 201');
my ($hid1, $hid2) = ($h1->{json}{id} // 'h1', $h2->{json}{id} // 'h2');
is_scim_error($t->get("$H/Users/$hid1", token => $th, host => 'tenant-two.example'), 404, undef,
              "tenant-two cannot see tenant-one's user");
is_scim_json($t->get("$H/Users/$hid1", token => $th, host => 'tenant-one.example'), 200,
             'tenant-one sees its user (Host without port, same $host)');
ok(defined $t->redis_cmd('HGET', "scim:{tenant-one.example}:User:docs", $hid1),
   'keys under scim:{tenant-one.example}:');
ok(defined $t->redis_cmd('HGET', "scim:{tenant-two.example}:User:docs", $hid2),
   'keys under scim:{tenant-two.example}:');
is($h1->{json}{meta}{location}, "http://tenant-one.example:$port$H/Users/$hid1",
   'meta.location from the Host header');

$t->finish;
