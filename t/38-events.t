#!/usr/bin/perl

# Change events (issue 11): every write through nginx (POST, PUT, PATCH,
# a group's member-only PATCH, DELETE, and a Bulk operation) appends
# exactly one event to scim:{T}:events, with its type, resourceType, id,
# version (that of the answer's ETag), time, "active" when the write
# changed it, a PATCH's paths, a group's members in and out; a refused
# write (409, 412, 404) appends none; "scim_events_maxlen off" writes no
# stream at all.  Then an application's consumption with a consumer
# group, as the README shows it: XGROUP CREATE, XREADGROUP, XACK, and
# after a consumer's crash its pending entries taken over (XPENDING,
# XAUTOCLAIM): at-least-once.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use ScimTest;
use ScimCheck;

my $t = ScimTest->new(workers => 2);
my $T = 'acme';
my $S = "scim:{$T}:events";

$t->write_config($t->standard_conf(tenant => $T, server_extra => <<"EOF"));
    location /off/scim/v2/ {
        scim;
        scim_redis %%REDIS%%;
        scim_tenant quiet;
        scim_bearer_token_file %%TOKEN_FILE%%;
        scim_events_maxlen off;
    }
EOF
$t->start_nginx_ok;

# the stream's entries as [id, {field => value}], oldest first
sub entries {
    my $r = $t->redis_cmd('XRANGE', $S, '-', '+') // [];
    return [map { [$_->[0], { @{ $_->[1] } }] } @$r];
}

my $seen = 0;

# the events appended since the last call: [{field => value}]
sub new_events {
    my $all = entries();
    my @n = map { $_->[1] } @$all[$seen .. $#$all];
    $seen = @$all;
    return \@n;
}

sub version_of {
    my ($r) = @_;
    my ($v) = ($r->{headers}{etag} // '') =~ /^W\/"(\d+)"$/;
    return $v;
}

# one event, of these fields exactly (time: checked apart)
sub one_event {
    my ($what, $want, $time) = @_;
    my $n = new_events();
    is(scalar @$n, 1, "$what: one event") or diag explain $n;
    my %e = %{ $n->[0] // {} };
    my $tm = delete $e{time};
    # paths as a set (a POST's or PUT's: the body's attributes, in its
    # order)
    if (ref $want->{paths}) {
        $want = { %$want, paths => [sort @{ $want->{paths} }] };
        $e{paths} = [sort @{ json_decode($e{paths} // 'null') // [] }];
    }
    is_deeply(\%e, $want, "$what: its fields") or diag explain \%e;
    ok(iso8601_ok($tm // ''), "$what: an ISO 8601 time ($tm)");
    is($tm, $time, "$what: the time is the resource's lastModified")
        if defined $time;
    return $n->[0];
}

sub no_event {
    my ($what) = @_;
    is_deeply(new_events(), [], "$what: no event");
}

# ------------------------------------------------------------- users

my $r = $t->create_user(entra_user(userName => 'ann@example.com'));
is($r->{status}, 201, 'POST a user');
my $u1 = $r->{json}{id};
my @UA = grep { $_ ne 'schemas' && $_ ne 'meta' }
         keys %{ entra_user(userName => 'x') };
one_event('POST /Users', { type => 'create', resourceType => 'User',
                           id => $u1, version => version_of($r),
                           paths => \@UA },
          $r->{json}{meta}{lastModified});

$r = $t->create_user(entra_user(userName => 'ann@example.com'), quiet => 1);
is($r->{status}, 409, 'POST of a taken userName: 409');
no_event('a 409');

$r = $t->put("Users/$u1", entra_user(userName => 'ann@example.com',
                                     active => jfalse));
is($r->{status}, 200, 'PUT that deactivates');
one_event('PUT', { type => 'replace', resourceType => 'User', id => $u1,
                   version => version_of($r), active => 'false',
                   paths => \@UA },
          $r->{json}{meta}{lastModified});

$r = $t->patch_ops($u1, { op => 'replace', path => 'active',
                          value => jtrue },
                   { op => 'add', value => { displayName => 'Ann',
                                             'name.givenName' => 'A' } });
is($r->{status}, 200, 'PATCH that activates');
my $n = new_events();
is(scalar @$n, 1, 'PATCH: one event');
is_deeply([@{ $n->[0] }{qw(type id version active)}],
          ['patch', $u1, version_of($r), 'true'],
          'PATCH: type, id, version, active');
is_deeply([sort @{ json_decode($n->[0]{paths} // 'null') // [] }],
          ['active', 'displayName', 'name.givenName'],
          "PATCH: its paths, a JSON array ($n->[0]{paths})");

$r = $t->patch_ops($u1, { op => 'replace', path => 'title',
                          value => 'Boss' });
is($r->{status}, 200, 'PATCH of the title');
$n = new_events();
is(scalar @$n, 1, '... one event');
is_deeply([$n->[0]{paths}, exists $n->[0]{active} ? 1 : 0], ['["title"]', 0],
          '... its path; active did not change: not flagged');

$r = $t->patch("Users/$u1", patch_body({ op => 'replace', path => 'title',
                                         value => 'X' }),
               headers => { 'If-Match' => 'W/"1"' });
is($r->{status}, 412, 'PATCH at a stale If-Match: 412');
no_event('a 412');

$r = $t->patch_ops('no-such-id', { op => 'replace', path => 'title',
                                   value => 'X' });
is($r->{status}, 404, 'PATCH of no user: 404');
no_event('a 404');

# ------------------------------------------------------------ groups

my $u2 = $t->create_user(entra_user(userName => 'bob@example.com'))
             ->{json}{id};
new_events();

$r = $t->post('Groups', { schemas => [URN_GROUP], displayName => 'G1',
                          members => [{ value => $u1 }] });
is($r->{status}, 201, 'POST a group with a member');
my $g = $r->{json}{id};
one_event('POST /Groups', { type => 'create', resourceType => 'Group',
                            id => $g, version => version_of($r),
                            added => qq(["$u1"]), addedCount => 1,
                            paths => ['displayName', 'members'] },
          $r->{json}{meta}{lastModified});

$r = $t->patch("Groups/$g", patch_body({ op => 'add', path => 'members',
                                         value => [{ value => $u2 }] }));
is($r->{status}, 204, "a member-only PATCH (Entra's): 204");
my $ver = $t->get("Groups/$g")->{json}{meta}{version};
one_event('a member-only PATCH', {
    type => 'members', resourceType => 'Group', id => $g,
    version => ($ver =~ /(\d+)/)[0], added => qq(["$u2"]), addedCount => 1,
    paths => '["members"]' });

$r = $t->patch("Groups/$g", patch_body(
    { op => 'remove', path => qq(members[value eq "$u1"]) },
    { op => 'replace', path => 'displayName', value => 'G2' }));
is($r->{status}, 204, 'a PATCH of the members and the name');
$ver = $t->get("Groups/$g")->{json}{meta}{version};
one_event('a group PATCH', {
    type => 'patch', resourceType => 'Group', id => $g,
    version => ($ver =~ /(\d+)/)[0], removed => qq(["$u1"]),
    removedCount => 1,
    paths => qq(["members[value eq \\"$u1\\"]","displayName"]) });

$r = $t->put("Groups/$g", { schemas => [URN_GROUP], displayName => 'G3',
                            members => [{ value => $u1 }] });
is($r->{status}, 200, 'PUT of the group: u1 in, u2 out');
one_event('a group PUT', {
    type => 'replace', resourceType => 'Group', id => $g,
    version => version_of($r), added => qq(["$u1"]), addedCount => 1,
    removed => qq(["$u2"]), removedCount => 1,
    paths => ['displayName', 'members'] },
    $r->{json}{meta}{lastModified});

$r = $t->put("Groups/$g", { schemas => [URN_GROUP], displayName => 'G3',
                            members => [{ value => 'nobody' }] });
is($r->{status}, 400, 'PUT with a member that does not exist: refused');
no_event('a refused member');

# ----------------------------------------------------------- deletes

my $v2 = $t->get("Users/$u2")->{json}{meta}{version};
$r = $t->del("Users/$u2");
is($r->{status}, 204, 'DELETE a user');
one_event('DELETE /Users', { type => 'delete', resourceType => 'User',
                             id => $u2, version => ($v2 =~ /(\d+)/)[0] });

$r = $t->del("Users/$u2");
is($r->{status}, 404, 'DELETE it again: 404');
no_event('a 404 delete');

my $vg = $t->get("Groups/$g")->{json}{meta}{version};
$r = $t->del("Groups/$g");
is($r->{status}, 204, 'DELETE the group');
one_event('DELETE /Groups', { type => 'delete', resourceType => 'Group',
                              id => $g, version => ($vg =~ /(\d+)/)[0] });

# a manager's delete: its report loses it, a patch event of the report
my $ENT = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
my $boss = $t->create_user(entra_user(userName => 'boss@example.com'))
               ->{json}{id};
my $rep = $t->create_user(entra_user(userName => 'rep@example.com',
                                     $ENT => { manager => { value => $boss } }));
is($rep->{status}, 201, 'a report of boss');
$rep = $rep->{json}{id};
new_events();
my $vb = $t->get("Users/$boss")->{json}{meta}{version};
is($t->del("Users/$boss")->{status}, 204, 'DELETE the manager');
$n = new_events();
my $vr = $t->get("Users/$rep")->{json}{meta}{version};
is_deeply([map { [@$_{qw(type id version paths)}] } @$n],
          [['delete', $boss, ($vb =~ /(\d+)/)[0], undef],
           ['patch', $rep, ($vr =~ /(\d+)/)[0], qq(["$ENT:manager"])]],
          '... its delete event, and a patch event of its report');

# -------------------------------------------------------------- bulk

$r = $t->post('Bulk', { schemas => ['urn:ietf:params:scim:api:messages:2.0:BulkRequest'],
                        Operations => [
    { method => 'POST', path => '/Users', bulkId => 'a',
      data => entra_user(userName => 'cid@example.com') },
    { method => 'PATCH', path => "/Users/$u1",
      data => patch_body({ op => 'replace', path => 'active',
                           value => jfalse }) } ] });
is($r->{status}, 200, 'a Bulk request of a POST and a PATCH');
$n = new_events();
is_deeply([map { "$_->{type} $_->{resourceType}" } @$n],
          ['create User', 'patch User'], '... an event each');
is($n->[1]{active}, 'false', '... the PATCH deactivated');

my ($problems) = ScimCheck::check_tenant($t, $T,
                                         get => sub { $t->get($_[0]) });
is_deeply($problems, [], 'ScimCheck: the tenant is consistent')
    or diag join "\n", @$problems;

# --------------------------------------------------- events off

$r = $t->post('/off/scim/v2/Users', entra_user(userName => 'q@example.com'));
is($r->{status}, 201, 'scim_events_maxlen off: POST');
my $q = $r->{json}{id};
is($t->patch("/off/scim/v2/Users/$q",
             patch_body({ op => 'replace', path => 'active',
                          value => jfalse }))->{status}, 200, '... PATCH');
is($t->del("/off/scim/v2/Users/$q")->{status}, 204, '... DELETE');
is($t->redis_cmd('EXISTS', 'scim:{quiet}:events'), 0,
   '... and no stream for that tenant');
my @qk = $t->redis_keys('scim:{quiet}:*');
ok(@qk > 0 && !grep({ /events/ } @qk),
   '... no events key at all (among its ' . scalar(@qk) . ' keys)');

# ----------------------------------- consumption with a consumer group

# the application: a group "app" from the start of the stream
is($t->redis_cmd('XGROUP', 'CREATE', $S, 'app', '0'), 'OK',
   'XGROUP CREATE events app 0');
my $all = entries();

sub read_group {
    my ($consumer, $from) = @_;
    my $res = $t->redis_cmd('XREADGROUP', 'GROUP', 'app', $consumer,
                            'COUNT', 1000, 'STREAMS', $S, $from);
    return [] unless ref $res && @$res;
    return [map { $_->[0] } @{ $res->[0][1] }];
}

my $got = read_group('c1', '>');
is_deeply($got, [map { $_->[0] } @$all],
          'XREADGROUP ... >: every event, in order, to consumer c1');
is_deeply(read_group('c1', '>'), [], '... and nothing new after');

# c1 handles and acknowledges the first half, then "crashes"
my $half = int(@$got / 2);
is($t->redis_cmd('XACK', $S, 'app', @$got[0 .. $half - 1]), $half,
   "XACK of the first $half");
my $p = $t->redis_cmd('XPENDING', $S, 'app');
is($p->[0], @$got - $half, 'XPENDING: the rest is pending');
is_deeply(read_group('c1', '0'), [@$got[$half .. $#$got]],
          "c1 restarted: XREADGROUP ... 0 gives its own pending ones again");

# another consumer takes over c1's pending entries
my $c = $t->redis_cmd('XAUTOCLAIM', $S, 'app', 'c2', 0, '0-0',
                      'COUNT', 1000);
is_deeply([map { $_->[0] } @{ $c->[1] }], [@$got[$half .. $#$got]],
          "XAUTOCLAIM: c2 takes c1's pending entries (at-least-once)");
is($t->redis_cmd('XACK', $S, 'app', map { $_->[0] } @{ $c->[1] }),
   @$got - $half, 'c2 acknowledges them');
is($t->redis_cmd('XPENDING', $S, 'app')->[0], 0, 'nothing pending');

# a write after: only it is new for the group
$r = $t->patch_ops($u1, { op => 'replace', path => 'title', value => 'Z' });
$got = read_group('c2', '>');
is(scalar @$got, 1, 'a new write: one new entry for the group');

# trimming: the first entry's id tells a consumer whether it missed some
my ($first) = @{ $t->redis_cmd('XRANGE', $S, '-', '+', 'COUNT', 1) };
is($first->[0], $all->[0][0],
   'nothing trimmed yet: the first entry is the first one read');

$t->finish;
