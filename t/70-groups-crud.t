#!/usr/bin/perl

# /Groups CRUD (issue 3): POST as Entra sends it (extra Microsoft schema
# URI, meta, no members -> 201 with members: []), POST with initial
# members, displayName required and unique case-insensitively (409
# uniqueness), unknown member ids -> 400 invalidValue with nothing
# written; GET /Groups/{id} with members {value, $ref, display, type},
# excludedAttributes=members never reading the member set (Redis command
# stats); PUT replaces (members too); DELETE -> 204 with every member's
# reverse entry cleaned.  Redis layout checked directly (design.md s.3).

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use ScimTest;

my $t = ScimTest->new(workers => 2);
my $port = $t->port;
my $T = 'acme';
my $P = "scim:{$T}:";
my $BASE = "http://127.0.0.1:$port/scim/v2";
my $ID_RE = qr/^[0-9A-Za-z][0-9A-Za-z._~-]*$/;

$t->write_config($t->standard_conf);
$t->start_nginx_ok;

# ---------------------------------------------------------------- helpers

sub new_user {
    my (%o) = @_;
    my $r = $t->create_user(entra_user(%o));
    return $r->{json}{id} // 'no-such-user';
}

sub group_body {
    my ($name, %o) = @_;
    return { schemas => [URN_GROUP], displayName => $name, %o };
}

sub member_ids { $t->redis_members($P, $_[0]) // [] }
sub user_groups { $t->redis_groups_of($P, $_[0]) // [] }

sub api_member_ids {
    my ($doc) = @_;
    return [ sort map { $_->{value} // '' } @{ $doc->{members} // [] } ];
}

sub zcard_groups { $t->redis_cmd('ZCARD', "${P}Group:ids") // -1 }

sub set_reads {
    my %c;
    for my $l (split /\r?\n/, $t->redis_cmd('INFO', 'commandstats') // '') {
        $c{$1} = $2 if $l =~ /^cmdstat_([^:]+):calls=(\d+)/;
    }
    my $n = 0;
    # the member zsets (members, memberof) are read by ZRANGEBYLEX and
    # the like; the set commands stay counted too
    $n += $c{$_} // 0 for qw(zrangebylex zrevrangebylex zlexcount zscan
                             smembers sscan scard srandmember sismember
                             smismember sinter sinterstore sintercard sunion
                             sunionstore sdiff sdiffstore sort sort_ro spop);
    return ($n, \%c);
}

# checks one member entry's shape: {value, $ref, display, type}
sub member_shape_ok {
    my ($m, $type, $display, $name) = @_;
    my @why;
    my @keys = sort keys %{ $m // {} };
    push @why, "keys are (@keys), expected (\$ref display type value)"
        unless "@keys" eq '$ref display type value';
    my $kind = $type eq 'Group' ? 'Groups' : 'Users';
    push @why, "\$ref is " . ($m->{'$ref'} // 'absent')
        . ", expected $BASE/$kind/" . ($m->{value} // '')
        unless defined $m->{'$ref'} && defined $m->{value}
            && $m->{'$ref'} eq "$BASE/$kind/$m->{value}";
    push @why, "type is " . ($m->{type} // 'absent') . ", expected $type"
        unless ($m->{type} // '') eq $type;
    push @why, "display is " . ($m->{display} // 'absent') . ", expected $display"
        unless ($m->{display} // '') eq $display;
    ok(!@why, $name) or diag(join("\n", @why), explain $m);
}

my $un_nodisplay = unique_name('nodisplay');
my @u = (new_user(displayName => 'Alice A'), new_user(displayName => 'Bob B'),
         new_user(displayName => 'Carol C'), new_user(userName => $un_nodisplay));
my %disp = ($u[0] => 'Alice A', $u[1] => 'Bob B', $u[2] => 'Carol C',
            $u[3] => $un_nodisplay);

# ---------------------------------------------- POST as Entra sends it

my $n0 = zcard_groups();
my $entra = {
    schemas     => [URN_GROUP, URN_ADSCIM_GROUP],
    externalId  => 'a1b2c3d4-0000-4000-8000-00000000e001',
    displayName => 'Engineering',
    meta        => { resourceType => 'Group' },
};
my $r = $t->post('Groups', $entra);
is_scim_json($r, 201, 'POST /Groups, Entra shape (ADSCIM schema URI, meta, no members) -> 201');
my $g = $r->{json} // {};
my $gid = $g->{id} // 'none';
like($gid, $ID_RE, 'id assigned');
is($g->{displayName}, 'Engineering', 'displayName echoed');
is($g->{externalId}, $entra->{externalId}, 'externalId echoed');
ok(ref $g->{schemas} eq 'ARRAY' && grep({ $_ eq URN_GROUP } @{ $g->{schemas} }),
   'schemas holds the core Group URN') or diag explain $g->{schemas};
is(ref $g->{members}, 'ARRAY', 'members present in the 201 ...');
is(scalar @{ ref $g->{members} eq 'ARRAY' ? $g->{members} : [1] }, 0, '... as []');
like($r->{content}, qr/"members"\s*:\s*\[\s*\]/, 'body has "members":[] literally');
is($g->{meta}{resourceType}, 'Group', 'meta.resourceType Group');
ok(iso8601_ok($g->{meta}{created}), 'meta.created is a dateTime');
ok(iso8601_ok($g->{meta}{lastModified}), 'meta.lastModified is a dateTime');
is($g->{meta}{location}, "$BASE/Groups/$gid", 'meta.location is absolute');
is($r->{headers}{location}, "$BASE/Groups/$gid", 'Location header == meta.location');
ok(defined $r->{headers}{etag} && $r->{headers}{etag} eq ($g->{meta}{version} // ''),
   'ETag header == meta.version') or diag "ETag: " . ($r->{headers}{etag} // 'none');
like($g->{meta}{version} // '', qr/^W\/"[^"]+"$/, 'meta.version is a weak ETag');

is(zcard_groups(), $n0 + 1, 'Group:ids grew by one');
ok(defined $t->redis_cmd('ZSCORE', "${P}Group:ids", $gid), 'id in Group:ids');
my $stored = $t->redis_cmd('HGET', "${P}Group:docs", $gid);
ok(defined $stored, 'Group:docs holds the document');
my $sj = json_decode($stored // '{}') // {};
ok(!exists $sj->{members}, 'stored document has no members inside') or diag $stored;
is($t->redis_cmd('HGET', "${P}Group:idx:displayName", 'engineering'), $gid,
   'idx:displayName: case-folded name -> id');
is_deeply($t->redis_ext_ids("${P}", 'Group', $entra->{externalId}), [$gid],
   'idx:externalId -> id');
is($t->redis_cmd('HGET', "${P}Group:display", $gid), 'Engineering', 'Group:display -> displayName');
is($t->redis_nmembers($P, $gid), 0, 'no member set for an empty group');

$r = $t->get("Groups/$gid");
is_scim_json($r, 200, 'GET /Groups/{id} -> 200');
is($r->{json}{displayName}, 'Engineering', 'GET: displayName');
is_deeply($r->{json}{meta}, $g->{meta}, 'GET: meta as in the 201');
is($r->{headers}{etag}, $g->{meta}{version}, 'GET: ETag == meta.version');
ok(!exists $r->{json}{members} || (ref $r->{json}{members} eq 'ARRAY' && !@{ $r->{json}{members} }),
   'GET of an empty group: no members (absent or [])') or diag explain $r->{json}{members};

# -------------------------------------------- POST with initial members

$r = $t->post('Groups', group_body('Ops', externalId => 'ext-ops',
    members => [ { value => $u[0] }, { value => $u[3], type => 'User' } ]));
is_scim_json($r, 201, 'POST /Groups with two initial members -> 201');
my $ops = $r->{json} // {};
my $oid = $ops->{id} // 'none';
is($r->{headers}{location}, "$BASE/Groups/$oid", 'Location header');
ok(defined $r->{headers}{etag}, 'ETag header');
is_deeply(api_member_ids($ops), [ sort @u[0, 3] ], '201 lists both members');
for my $m (@{ $ops->{members} // [] }) {
    member_shape_ok($m, 'User', $disp{ $m->{value} // '' } // '?',
                    "201 member $disp{$m->{value} // ''}: {value, \$ref, display, type}");
}
is_deeply(member_ids($oid), [ sort @u[0, 3] ], 'Redis: members holds both');
is_deeply(user_groups($u[0]), [ $oid ], 'Redis: memberof: u0 -> the group');
is_deeply(user_groups($u[3]), [ $oid ], 'Redis: memberof: u3 -> the group');
$sj = json_decode($t->redis_cmd('HGET', "${P}Group:docs", $oid) // '{}') // {};
ok(!exists $sj->{members}, 'stored document still has no members inside');

$r = $t->get("Groups/$oid");
is_scim_json($r, 200, 'GET the group with members');
is_deeply(api_member_ids($r->{json}), [ sort @u[0, 3] ], 'GET lists both members');
my ($m3) = grep { ($_->{value} // '') eq $u[3] } @{ $r->{json}{members} // [] };
member_shape_ok($m3, 'User', $un_nodisplay,
                'member without displayName: display is its userName');
my ($m0) = grep { ($_->{value} // '') eq $u[0] } @{ $r->{json}{members} // [] };
member_shape_ok($m0, 'User', 'Alice A', 'member with displayName: display is it');
is_deeply($r->{json}, $ops, 'GET returns what the 201 returned');

# many initial members (Entra batches: 10 and more values in one request)
my @many = map { new_user(displayName => "Many $_") } 0 .. 11;
$r = $t->post('Groups', group_body('Many', members => [ map { { value => $_ } } @many ]));
is_scim_json($r, 201, 'POST /Groups with 12 initial members -> 201');
my $manyg = $r->{json}{id} // 'none';
is_deeply(api_member_ids($r->{json}), [ sort @many ], '201 lists all 12 members');
is_deeply(member_ids($manyg), [ sort @many ], 'Redis member set holds all 12');
is(scalar(grep { $t->redis_has_group($P, $_, $manyg) } @many), 12,
   'all 12 reverse entries written');
$r = $t->put("Groups/$manyg", group_body('Many', members => [ map { { value => $_ } } @many[0 .. 10] ]));
is_scim_json($r, 200, 'PUT with 11 members -> 200');
is_deeply(api_member_ids($r->{json}), [ sort @many[0 .. 10] ], 'PUT answer lists the 11');
is_deeply(member_ids($manyg), [ sort @many[0 .. 10] ], 'Redis member set holds the 11');
is_deeply(user_groups($many[11]), [], 'the 12th lost its reverse entry');
is($t->delete("Groups/$manyg")->{status}, 204, 'DELETE the group of many');
is(scalar(grep { $t->redis_ngroups_of($P, $_) } @many), 0,
   'no reverse entry left for any of the 12');

# ------------------------------------------------- POST errors

$n0 = zcard_groups();
my $before = $t->redis_dump("${P}*");

is_scim_error($t->post('Groups', { schemas => [URN_GROUP], externalId => 'x-1' }),
              400, undef, 'POST without displayName -> 400');
is_scim_error($t->post('Groups', { schemas => [URN_GROUP], displayName => '' }),
              400, undef, 'POST with an empty displayName -> 400');
is_scim_error($t->post('Groups', group_body('ENGINEERING')), 409, 'uniqueness',
              'POST displayName taken (other case) -> 409 uniqueness');
is_scim_error($t->post('Groups', group_body('engineering', schemas => [URN_GROUP, URN_ADSCIM_GROUP])),
              409, 'uniqueness', 'POST displayName taken (lower case) -> 409 uniqueness');

my $ghost = '0f0f0f0f-0000-4000-8000-00000000dead';
$r = $t->post('Groups', group_body('Has Ghost', members => [ { value => $u[1] }, { value => $ghost } ]));
is_scim_error($r, 400, 'invalidValue', 'POST with a member id that does not exist -> 400 invalidValue');
like($r->{json}{detail} // '', qr/\Q$ghost\E/, 'the detail names the unknown id');
is_scim_error($t->post('Groups', group_body('Has Junk', members => [ { value => 'not-an-id' } ])),
              400, 'invalidValue', 'POST with a junk member id -> 400 invalidValue');
is_scim_error($t->post('Groups', group_body('Has Junk 2', members => [ { value => $u[2] }, { value => '' } ])),
              400, 'invalidValue', 'POST with an empty member id -> 400 invalidValue');

is(zcard_groups(), $n0, 'none of the failed POSTs added a group id');
is_deeply($t->redis_dump("${P}*"), $before, 'none of the failed POSTs wrote anything');
is($t->redis_cmd('HGET', "${P}Group:idx:displayName", 'has ghost'), undef,
   'the rejected displayName is not indexed');
is_deeply(user_groups($u[1]), [], 'the valid member of the rejected POST has no reverse entry');
is($t->redis_ngroups_of($P, $u[1]), 0, '... and no reverse set at all');
is_deeply($t->redis_ext_ids("${P}", 'Group', 'x-1'), [], 'rejected externalId not indexed');

$r = $t->post('Groups', group_body('Has Ghost', members => [ { value => $u[1] } ]));
is_scim_json($r, 201, 'the same displayName without the unknown member -> 201 (name was not reserved)');
my $hgid = $r->{json}{id} // 'none';
is_deeply(member_ids($hgid), [ $u[1] ], '... with its one member');

# -------------------------------------------- GET: 404, projections

is_scim_error($t->get("Groups/$ghost"), 404, undef, 'GET unknown group -> 404');
is_scim_error($t->get('Groups/nonsense'), 404, undef, 'GET junk id -> 404');
is_scim_error($t->get("Groups/$u[0]"), 404, undef, 'GET /Groups/<a user id> -> 404');
is_scim_error($t->get("Users/$oid"), 404, undef, 'GET /Users/<a group id> -> 404');

$r = $t->get("Groups/$oid?excludedAttributes=members");
is_scim_json($r, 200, 'GET ?excludedAttributes=members -> 200');
ok(!exists $r->{json}{members}, 'no members in the answer') or diag $r->{content};
is($r->{json}{displayName}, 'Ops', 'displayName still there');
is($r->{json}{externalId}, 'ext-ops', 'externalId still there');
is($r->{json}{id}, $oid, 'id still there');
is_deeply($r->{json}{meta}, $ops->{meta}, 'meta still there');

$r = $t->get("Groups/$oid?excludedAttributes=Members");
is_scim_json($r, 200, 'GET ?excludedAttributes=Members (other case) -> 200');
ok(!exists $r->{json}{members}, '... no members');

$r = $t->get("Groups/$oid?attributes=displayName");
is_scim_json($r, 200, 'GET ?attributes=displayName -> 200');
ok(!exists $r->{json}{members}, '... no members');
is($r->{json}{displayName}, 'Ops', '... displayName');
is($r->{json}{id}, $oid, '... id (returned always)');

$r = $t->get("Groups/$oid?attributes=members");
is_scim_json($r, 200, 'GET ?attributes=members -> 200');
is_deeply(api_member_ids($r->{json}), [ sort @u[0, 3] ], '... the members');

$r = $t->get("Groups/$oid?attributes=members.value");
is_scim_json($r, 200, 'GET ?attributes=members.value -> 200');
is_deeply(api_member_ids($r->{json}), [ sort @u[0, 3] ], '... member values');

# excludedAttributes=members does not read the member set at all
$t->redis_cmd('CONFIG', 'RESETSTAT');
$r = $t->get("Groups/$oid?excludedAttributes=members");
my ($reads, $calls) = set_reads();
is_scim_json($r, 200, 'GET ?excludedAttributes=members (for command stats)');
is($reads, 0, 'excludedAttributes=members: no set command ran in Redis')
    or diag explain $calls;
ok(!grep({ /^(?:keys|scan|sscan)$/ } keys %$calls), '... and no scan') or diag explain $calls;
$t->redis_cmd('CONFIG', 'RESETSTAT');
$r = $t->get("Groups/$oid");
($reads, $calls) = set_reads();
ok($reads > 0, 'control: a GET with members does read the set (the stats count script calls)')
    or diag explain $calls;

# Entra's lookup: list + excludedAttributes=members
$t->redis_cmd('CONFIG', 'RESETSTAT');
$r = $t->get('Groups?' . entra_filter_qs('displayName', 'Ops') . '&excludedAttributes=members');
($reads, $calls) = set_reads();
is_list_response($r, 1, 1, 'GET /Groups?filter=displayName eq "Ops"&excludedAttributes=members');
ok(!exists(((($r->{json}{Resources} // [])->[0]) // {})->{members}), '... without members');
is($reads, 0, '... and no set command ran in Redis') or diag explain $calls;

# ------------------------------------------------------------------- PUT

my $v0 = $ops->{meta}{version} // '';
$r = $t->put("Groups/$oid", group_body('Operations', externalId => 'ext-ops-2',
    members => [ { value => $u[1] }, { value => $u[2] } ]));
is_scim_json($r, 200, 'PUT /Groups/{id} -> 200');
my $p = $r->{json} // {};
is($p->{id}, $oid, 'same id');
is($p->{displayName}, 'Operations', 'displayName replaced');
is($p->{externalId}, 'ext-ops-2', 'externalId replaced');
is_deeply(api_member_ids($p), [ sort @u[1, 2] ], 'members replaced (old ones gone)');
is($p->{meta}{created}, $ops->{meta}{created}, 'meta.created kept');
isnt($p->{meta}{version}, $v0, 'meta.version changed');
is($r->{headers}{etag}, $p->{meta}{version}, 'ETag == meta.version');
is_deeply(member_ids($oid), [ sort @u[1, 2] ], 'Redis member set replaced');
is_deeply(user_groups($u[0]), [], 'old member u0: reverse entry removed');
is_deeply(user_groups($u[3]), [], 'old member u3: reverse entry removed');
is_deeply(user_groups($u[1]), [ sort($hgid, $oid) ], 'new member u1: reverse entry added');
is_deeply(user_groups($u[2]), [ $oid ], 'new member u2: reverse entry added');
is($t->redis_cmd('HGET', "${P}Group:idx:displayName", 'ops'), undef, 'old name left idx:displayName');
is($t->redis_cmd('HGET', "${P}Group:idx:displayName", 'operations'), $oid, 'new name in idx:displayName');
is_deeply($t->redis_ext_ids("${P}", 'Group', 'ext-ops'), [], 'old externalId left the index');
is_deeply($t->redis_ext_ids("${P}", 'Group', 'ext-ops-2'), [$oid], 'new externalId indexed');
is($t->redis_cmd('HGET', "${P}Group:display", $oid), 'Operations', 'Group:display follows');
is_deeply($t->get("Groups/$oid")->{json}, $p, 'GET returns what PUT returned');

# the freed name can be taken again; PUT errors change nothing
$r = $t->post('Groups', group_body('ops'));
is_scim_json($r, 201, 'the old name is free again');
my $ops2 = $r->{json}{id} // 'none';

my $cur = $t->get("Groups/$oid")->{json};
is_scim_error($t->put("Groups/$oid", group_body('ENGINEERING', members => [ { value => $u[1] } ])),
              409, 'uniqueness', 'PUT to a taken displayName -> 409 uniqueness');
is_scim_error($t->put("Groups/$oid", group_body('Operations X', members => [ { value => $u[0] }, { value => $ghost } ])),
              400, 'invalidValue', 'PUT with an unknown member -> 400 invalidValue');
is_scim_error($t->put("Groups/$oid", { schemas => [URN_GROUP], members => [] }),
              400, undef, 'PUT without displayName -> 400');
is_deeply($t->get("Groups/$oid")->{json}, $cur, 'the failed PUTs changed nothing');
is_deeply(member_ids($oid), [ sort @u[1, 2] ], '... not the member set');
is_deeply(user_groups($u[0]), [], '... nor u0\'s reverse set');
is($t->redis_cmd('HGET', "${P}Group:idx:displayName", 'operations x'), undef, '... nor the index');
is_scim_error($t->put("Groups/$ghost", group_body('Nobody')), 404, undef, 'PUT unknown group -> 404');

$r = $t->put("Groups/$oid", group_body('Operations', externalId => 'ext-ops-2', members => []));
is_scim_json($r, 200, 'PUT with members: [] -> 200');
ok(!@{ $r->{json}{members} // [] }, 'no members left');
is_deeply(member_ids($oid), [], 'member set empty');
is_deeply(user_groups($u[2]), [], 'u2 reverse entry removed');
is_deeply(user_groups($u[1]), [ $hgid ], 'u1 keeps its other group only');

$r = $t->put("Groups/$oid", group_body('Operations', members => [ { value => $u[0] }, { value => $u[0] } ]));
is_scim_json($r, 200, 'PUT with a duplicated member -> 200');
is_deeply(api_member_ids($r->{json}), [ $u[0] ], 'one member');
ok(!exists $r->{json}{externalId}, 'PUT without externalId removed it');
is_deeply($t->redis_ext_ids("${P}", 'Group', 'ext-ops-2'), [], '... and its index entry');

# ---------------------------------------------------------------- DELETE

$r = $t->put("Groups/$oid", group_body('Operations', externalId => 'ext-ops-3',
    members => [ map { { value => $_ } } @u ]));
is_scim_json($r, 200, 'PUT four members before DELETE');
$r = $t->delete("Groups/$oid");
is($r->{status}, 204, 'DELETE /Groups/{id} -> 204');
is($r->{content}, '', '204 has no body');
is_scim_error($t->get("Groups/$oid"), 404, undef, 'GET after DELETE -> 404');
is_scim_error($t->delete("Groups/$oid"), 404, undef, 'DELETE again -> 404');
is($t->redis_cmd('HEXISTS', "${P}Group:docs", $oid), 0, 'document gone');
is($t->redis_nmembers($P, $oid), 0, 'member set gone');
is($t->redis_ngroups_of($P, $oid), 0, 'no parent set');
is($t->redis_cmd('ZSCORE', "${P}Group:ids", $oid), undef, 'id left Group:ids');
is($t->redis_cmd('HGET', "${P}Group:idx:displayName", 'operations'), undef, 'idx:displayName entry gone');
is_deeply($t->redis_ext_ids("${P}", 'Group', 'ext-ops-3'), [], 'idx:externalId entry gone');
is($t->redis_cmd('HGET', "${P}Group:display", $oid), undef, 'Group:display entry gone');
for my $i (0 .. 3) {
    is($t->redis_has_group($P, $u[$i], $oid), 0,
       "member u$i: reverse entry cleaned");
}
is_deeply(user_groups($u[1]), [ $hgid ], 'u1 still in its other group');
is_deeply([ map { $_->{value} } @{ $t->get("Users/$u[1]")->{json}{groups} // [] } ], [ $hgid ],
          'u1\'s groups attribute lists only the remaining group');
ok(!@{ $t->get("Users/$u[0]")->{json}{groups} // [] }, 'u0\'s groups attribute is empty');
is_deeply($t->redis_mentions($P, $oid), [], 'no key, field or member mentions the deleted id');
is_scim_json($t->get("Users/$u[2]"), 200, 'members survive their group');
is_scim_error($t->patch("Groups/$oid", patch_body({ op => 'Add', path => 'members', value => [ { value => $u[0] } ] })),
              404, undef, 'member PATCH of a deleted group -> 404');
is($t->redis_nmembers($P, $oid), 0, '... and it did not recreate the member set');
is($t->redis_has_group($P, $u[0], $oid), 0, '... nor a reverse entry');
is_scim_error($t->put("Groups/$oid", group_body('Operations')), 404, undef, 'PUT of a deleted group -> 404');

$r = $t->post('Groups', group_body('Operations', externalId => 'ext-ops-3'));
is_scim_json($r, 201, 'name and externalId of the deleted group are free again');

# deleting an empty group
is($t->delete("Groups/$ops2")->{status}, 204, 'DELETE an empty group -> 204');
is($t->redis_cmd('HGET', "${P}Group:idx:displayName", 'ops'), undef, 'its name left the index');

$t->finish;
