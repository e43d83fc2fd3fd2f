#!/usr/bin/perl

# GET /Users/{id} (200/404); filters userName eq (case-insensitive) and
# externalId eq; Entra's Test Connection (Q14, Q15); unknown query
# parameters (Q19); ListResponse paging with startIndex/count (RFC 7644
# 3.4.2.4) and the scim_max_results cap.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Time::HiRes qw(sleep);
use ScimTest;

my $t = ScimTest->new(workers => 2);
my $port = $t->port;

$t->write_config($t->standard_conf(server_extra => <<'EOF'));
    location /p/scim/v2/ {
        scim;
        scim_redis %%REDIS%%;
        scim_tenant paging;
        scim_bearer_token_file %%TOKEN_FILE%%;
        scim_max_results 200;
    }

    location /big/scim/v2/ {
        scim;
        scim_redis %%REDIS%%;
        scim_tenant big;
        scim_bearer_token_file %%TOKEN_FILE%%;
        scim_max_results 200;
    }

    location /cap/scim/v2/ {
        scim;
        scim_redis %%REDIS%%;
        scim_tenant paging;
        scim_bearer_token_file %%TOKEN_FILE%%;
        scim_max_results 5;
    }
EOF
$t->start_nginx_ok;

# ------------------------------------------------------------ GET by id

my $un = 'Bob.Jones@Example.com';
my $r = $t->create_user(entra_user(userName => $un, externalId => 'Ext-ABC',
                                   displayName => 'Bob Jones'));
my $created = $r->{json} // {};
my $id = $created->{id} // 'none';

$r = $t->get("Users/$id");
is_scim_json($r, 200, 'GET /Users/{id} -> 200');
is($r->{json}{id}, $id, 'id');
is($r->{json}{userName}, $un, 'userName');
is($r->{json}{displayName}, 'Bob Jones', 'displayName');
is_deeply($r->{json}{meta}, $created->{meta}, 'meta as in the 201');
is($r->{headers}{etag}, $created->{meta}{version}, 'ETag header == meta.version');
is_scim_json($t->get("Users/$id?aadOptscim062020"), 200, 'GET /Users/{id}?aadOptscim062020');

is_scim_error($t->get('Users/00000000-0000-0000-0000-000000000000'), 404, undef,
              'GET unknown id -> 404 SCIM error');
is_scim_error($t->get('Users/' . uc $id), 404, undef, 'ids are case-sensitive')
    if $id =~ /[a-z]/;

# --------------------------------------------------------------- filters

sub found_one {
    my ($res, $name) = @_;
    is_list_response($res, 1, 1, $name)
        and is((($res->{json}{Resources} // [])->[0] // {})->{id}, $id,
               "$name: the right user");
}

found_one($t->list(filter => qq(userName eq "$un")), 'userName eq (exact)');
found_one($t->list(filter => 'userName eq "' . lc($un) . '"'), 'userName eq (lower case)');
found_one($t->list(filter => 'userName eq "' . uc($un) . '"'), 'userName eq (upper case, Q13)');
found_one($t->get('Users?' . entra_filter_qs('userName', $un)),
          'Entra encoding: filter=userName+eq+%22...%22');
found_one($t->list(filter => qq(UserName eq "$un")), 'attribute name in other case (Q12)');
found_one($t->list(filter => qq(userName EQ "$un")), 'operator in upper case');
found_one($t->list(filter => qq(externalId eq "Ext-ABC")), 'externalId eq');
is_list_response($t->list(filter => qq(externalId eq "ext-abc")), 0, 0,
                 'externalId is caseExact: other case finds nothing');

$r = $t->list(filter => qq(userName eq "$un"));
my $res0 = (($r->{json}{Resources} // [])->[0]) // {};
is($res0->{userName}, $un, 'filter result is the full resource (userName)');
is($res0->{meta}{location}, "http://127.0.0.1:$port/scim/v2/Users/$id",
   'filter result has meta.location');
is($r->{json}{startIndex}, 1, 'startIndex 1');
is($r->{json}{itemsPerPage}, 1, 'itemsPerPage 1');

# Test Connection (Q14/Q15): a random GUID, no match
my $guid = sprintf('%08x-%04x-%04x-%04x-%012x', map { int rand(2**$_) } 32, 16, 16, 16, 48);
$r = $t->get('Users?' . entra_filter_qs('userName', $guid),
             headers => { 'User-Agent' => undef });
is_list_response($r, 0, 0, 'Test Connection: no match -> 200, totalResults 0');
is(ref $r->{json}{Resources}, 'ARRAY', 'Resources is present, an empty array');
is($r->{json}{startIndex}, 1, 'startIndex 1 on an empty result');
is($r->{json}{itemsPerPage}, 0, 'itemsPerPage 0 on an empty result');
is_list_response($t->list(filter => qq(externalId eq "$guid")), 0, 0,
                 'externalId: no match');

# Q19: unknown query parameters
found_one($t->get('Users?aadOptscim062020&' . qs(filter => qq(userName eq "$un"))),
          '?aadOptscim062020&filter=...');
found_one($t->get('Users?' . qs(filter => qq(userName eq "$un")) . '&aadOptscim062020'),
          '?filter=...&aadOptscim062020');
found_one($t->get('Users?' . qs(foo => 'bar', filter => qq(userName eq "$un"), x => '')),
          'unknown parameters ignored');
found_one($t->get('/scim/v2/Users/?' . qs(filter => qq(userName eq "$un"))),
          '/Users/?filter= (trailing slash)');

# values with characters that need encoding
my $odd = "o'brien+tag&x=1\@example.com";
my $oid = $t->create_user(entra_user(userName => $odd))->{json}{id} // 'none';
$r = $t->list(filter => qq(userName eq "$odd"));
is_list_response($r, 1, 1, "userName with ' + & = found (percent-encoded)");
is((($r->{json}{Resources} // [])->[0] // {})->{id}, $oid, '... the right one');

# what else Entra sends as filters: other matching attributes (Q6), the
# manager check of sequence D, unquoted values (Q11)
my $mgr = $t->create_user(entra_user(userName => 'mgr.q6@example.com'))->{json}{id} // 'none';
my $emp = $t->create_user(entra_user(userName => 'emp.q6@example.com', externalId => 'jyoung',
    emails => [{ type => 'work', value => 'emp.work@example.com', primary => jtrue }],
    URN_ENT() => { manager => $mgr }))->{json}{id} // 'none';
for my $c ([ 'emails[type eq "work"].value eq "emp.work@example.com"', 'Q6 value path + sub-attribute' ],
           [ qq(id eq "$emp" and manager eq "$mgr"), 'sequence D manager check (id and manager)' ],
           [ 'externalId eq jyoung', 'Q11 unquoted value' ],
           [ 'userName eq emp.q6@example.com', 'Q11 unquoted userName' ])
{
    $r = $t->list(filter => $c->[0], attributes => 'id');
    is_list_response($r, 1, 1, "filter $c->[1]");
    is((($r->{json}{Resources} // [])->[0] // {})->{id}, $emp, "... finds the user ($c->[1])");
}
is_list_response($t->list(filter => qq(id eq "$emp" and manager eq "$id")), 0, 0,
                 'manager check with another manager: no match');

# an indexed eq filter is a lookup, not a scan of the users
$t->redis_cmd('CONFIG', 'RESETSTAT');
my $seen = $t->redis_monitor(sub {
    found_one($t->list(filter => qq(userName eq "$un")), 'userName eq (for command stats)');
});
my %calls;
for my $l (split /\r?\n/, $t->redis_cmd('INFO', 'commandstats') // '') {
    $calls{$1} = $2 if $l =~ /^cmdstat_([^:]+):calls=(\d+)/;
}
# (a user's groups are read by ZRANGEBYLEX on memberof: a range of that
# user's own entries, an index lookup; it is checked below by its bounds)
my @scans = grep { /^(?:z?range|zrange(?!bylex$)\w*|zrevrange\w*|z?scan|h?scan|s?scan|keys|hgetall|hkeys|hvals|zcard)$/ } keys %calls;
ok(!@scans, 'userName eq: no range/scan command in Redis') or diag explain \%calls;
my @lex = grep { $_->[0] =~ /^Z\w*LEX/ && ($_->[1] !~ /^scim:\{[^}]+\}:memberof$/
                 || $_->[2] !~ /^\[[^\x00]+\\x00$/) } @$seen;
ok(!@lex, 'userName eq: ZRANGEBYLEX only on the user\'s own memberof entries') or diag explain \@lex;
my $gets = grep { $_->[0] =~ /^(?:GET|MGET|HGET|HMGET)$/ && ($_->[1] // '') =~ /:(?:User|Group):docs$/ } @$seen;
ok($gets <= 2, "userName eq: $gets document read(s)") or diag explain \%calls;

# filter + count=0: totalResults only
$r = $t->list(filter => qq(userName eq "$un"), count => 0);
is_list_response($r, 1, 0, 'filter with count=0: totalResults 1, no Resources');

# --------------------------------------------------------------- paging

my $P = '/p/scim/v2';
my @ids;
for my $i (1 .. 12) {
    my $b = entra_user(userName => sprintf('page%02d@example.com', $i));
    $b->{active} = jfalse if $i == 7;        # inactive users count too
    my $res = $t->post("$P/Users", $b);
    push @ids, $res->{json}{id} // "missing-$i";
}
is(scalar(grep { !/^missing/ } @ids), 12, '12 users created in tenant "paging"');

sub page {
    my ($base, @q) = @_;
    my $qs = qs(@q);
    return $t->get("$base/Users" . ($qs ne '' ? "?$qs" : ''));
}
sub rids { [ map { $_->{id} } @{ $_[0]{json}{Resources} // [] } ] }

$r = page($P);
is_list_response($r, 12, 12, 'GET /Users: all 12, totalResults 12');
is_deeply(rids($r), \@ids, 'listed in creation order');
is($r->{json}{startIndex}, 1, 'startIndex defaults to 1');

my @seen;
for my $p ([1, 5], [6, 5], [11, 2]) {
    my ($si, $n) = @$p;
    $r = page($P, startIndex => $si, count => 5);
    is_list_response($r, 12, $n, "startIndex=$si&count=5: $n resources, totalResults 12");
    is($r->{json}{startIndex}, $si, "startIndex=$si echoed");
    is_deeply(rids($r), [ @ids[$si - 1 .. $si + $n - 2] ], "startIndex=$si: the right users");
    push @seen, @{ rids($r) };
}
my %u = map { $_ => 1 } grep { defined } @seen;
is(scalar keys %u, 12, '3 pages of 5 cover all 12 users once');
is_deeply(rids(page($P, startIndex => 6, count => 5)), [ @ids[5 .. 9] ],
          'the same page again: same users (stable)');

$r = page($P, startIndex => 13, count => 5);
is_list_response($r, 12, 0, 'startIndex beyond the end: empty page, totalResults 12');
$r = page($P, startIndex => 1000);
is_list_response($r, 12, 0, 'startIndex=1000: empty page');
$r = page($P, startIndex => 12, count => 5);
is_list_response($r, 12, 1, 'startIndex=12: the last user');
is_deeply(rids($r), [ $ids[11] ], '... which is the 12th created');

$r = page($P, count => 0);
is_list_response($r, 12, 0, 'count=0: totalResults only');
$r = page($P, count => -3);
is_list_response($r, 12, 0, 'count=-3 is treated as 0 (RFC 7644 3.4.2.4)');
$r = page($P, startIndex => 0, count => 2);
is_list_response($r, 12, 2, 'startIndex=0 is treated as 1');
is($r->{json}{startIndex}, 1, '... and answered as startIndex 1');
is_deeply(rids($r), [ @ids[0, 1] ], '... first two users');
$r = page($P, startIndex => -7, count => 2);
is_list_response($r, 12, 2, 'startIndex=-7 is treated as 1');
is_deeply(rids($r), [ @ids[0, 1] ], '... first two users');

$r = page($P, count => 1000);
is_list_response($r, 12, 12, 'count=1000 below scim_max_results 200: all 12');

$r = page($P, foo => 'bar', count => 2, aadOptscim062020 => undef);
is_list_response($r, 12, 2, 'unknown parameters ignored by paging');

# the cap
$r = page('/cap/scim/v2', count => 10);
is_list_response($r, 12, 5, 'count=10 capped to scim_max_results 5');
is($r->{json}{itemsPerPage}, 5, 'itemsPerPage 5');
$r = page('/cap/scim/v2');
is_list_response($r, 12, undef, 'no count: capped too');
ok(scalar(@{ $r->{json}{Resources} // [] }) <= 5, '... at most 5 resources');
$r = page('/cap/scim/v2', startIndex => 11, count => 10);
is_list_response($r, 12, 2, 'capped page at startIndex=11: 2 left');

# after a delete: no gaps
is($t->delete("$P/Users/$ids[2]")->{status}, 204, 'delete the 3rd user');
my @rest = @ids[0, 1, 3 .. 11];
@seen = ();
for my $si (1, 6, 11) {
    $r = page($P, startIndex => $si, count => 5);
    is_list_response($r, 11, $si == 11 ? 1 : 5, "after delete: startIndex=$si");
    push @seen, @{ rids($r) };
}
is_deeply(\@seen, \@rest, 'after delete: pages still contiguous, in order');

# other tenants are not counted
$r = $t->list(count => 0);
is_list_response($r, 4, 0, 'tenant acme still has its own 4 users');

# ------------------------------------------ big pages, slow readers

my @big;
for my $i (1 .. 120) {
    my $res = $t->post('/big/scim/v2/Users', entra_user(userName => "big$i\@example.com",
                                                        title => sprintf('%04d', $i) x 2500));
    push @big, $res->{json}{id} // "missing-$i";
}
$r = $t->get('/big/scim/v2/Users?count=200', timeout => 20);
is_list_response($r, 120, 120, 'a page of 120 users of 10 KB each (~1.2 MB)');
is_deeply(rids($r), \@big, '... all of them, in order');
is(length((($r->{json}{Resources} // [])->[-1] // {})->{title} // ''), 10000, '... the last one whole');

# the same page to a client that reads only after 2 s through a 2 KB window
my $s = $t->connect_nginx(rcvbuf => 2048);
$t->send_bytes($s, $t->build_request('GET', '/big/scim/v2/Users?count=200'));
sleep 2;
$r = $t->read_response($s, timeout => 30);
close $s;
is_list_response($r, 120, 120, 'slow reader gets the whole 1.2 MB page');
is_deeply(rids($r), \@big, '... intact');

# and one that goes away in the middle of it
$s = $t->connect_nginx(rcvbuf => 2048);
$t->send_bytes($s, $t->build_request('GET', '/big/scim/v2/Users?count=200'));
sleep 0.5;
close $s;
is_list_response($t->get('/big/scim/v2/Users?count=1'), 120, 1, 'serving after a reader left mid-response');

$t->finish;
