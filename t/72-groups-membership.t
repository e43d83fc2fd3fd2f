#!/usr/bin/perl

# Memberships (issue 3): the User resource's read-only "groups" attribute
# ({value, $ref, display, type: "direct"}) kept right through member adds,
# removes, renames, group deletes and user deletes (a user delete removes
# the user from every group, atomically); groups inside groups (member
# type "Group"); concurrency (6 clients adding 60 members at once lose
# none; member PATCHes racing a group DELETE, and member adds racing a
# user DELETE, leave no dangling reverse entry); scale (add-one-member and
# GET ?excludedAttributes=members cost the same at 100 members as at
# 5,000 real and 100,000 stored members).

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Time::HiRes qw(time sleep);
use ScimTest;
use ScimCheck;

my $t = ScimTest->new(workers => 2, timeout => 240);
my $port = $t->port;
my $T = 'acme';
my $P = "scim:{$T}:";
my $BASE = "http://127.0.0.1:$port/scim/v2";

$t->write_config($t->standard_conf);
$t->start_nginx_ok;

# ---------------------------------------------------------------- helpers

sub new_user {
    my (%o) = @_;
    my $r = $t->create_user(entra_user(%o));
    return $r->{json}{id} // 'no-such-user';
}

sub new_group {
    my ($name, @members) = @_;
    my $r = $t->post('Groups', { schemas => [URN_GROUP], displayName => $name,
                                 members => [ map { { value => $_ } } @members ] });
    diag("create group $name: HTTP $r->{status} $r->{content}") unless $r->{status} == 201;
    return $r->{json}{id} // 'no-such-group';
}

sub gpatch {
    my ($gid, @ops) = @_;
    return $t->patch("Groups/$gid", patch_body(@ops));
}

sub add_op { my @ids = @_; return { op => 'Add', path => 'members', value => [ map { { '$ref' => undef, value => $_ } } @ids ] } }
sub rem_op { my @ids = @_; return { op => 'Remove', path => 'members', value => [ map { { value => $_ } } @ids ] } }

sub member_ids { $t->redis_members($P, $_[0]) // [] }
sub user_groups { $t->redis_groups_of($P, $_[0]) // [] }
sub group_parents { $t->redis_groups_of($P, $_[0]) // [] }

# a user's groups attribute as GET /Users/{id} shows it: sorted values
sub api_groups {
    my ($uid) = @_;
    my $r = $t->get("Users/$uid");
    return [ "GET failed: $r->{status}" ] unless $r->{status} == 200;
    return [ sort map { $_->{value} // '' } @{ $r->{json}{groups} // [] } ];
}

sub api_members {
    my ($gid) = @_;
    my $r = $t->get("Groups/$gid");
    return [ "GET failed: $r->{status}" ] unless $r->{status} == 200;
    return [ sort map { $_->{value} // '' } @{ $r->{json}{members} // [] } ];
}

sub median {
    my @s = sort { $a <=> $b } @_;
    return 0 unless @s;
    return @s % 2 ? $s[$#s / 2] : ($s[@s / 2 - 1] + $s[@s / 2]) / 2;
}

sub statuses { my %c; $c{ $_ // 'none' }++ for @_; \%c }

sub is_204 {
    my ($r, $name) = @_;
    my $ok = ok(($r->{status} // 0) == 204, $name);
    diag("HTTP $r->{status}\n" . ($r->{content} // '')) unless $ok;
    return $ok;
}

# ---------------------------------------- the User's groups attribute

my $alice = new_user(displayName => 'Alice');
my $bob   = new_user(displayName => 'Bob');
my $g1 = new_group('Readers');
my $g2 = new_group('Writers');

my $u = $t->get("Users/$alice")->{json} // {};
ok(!@{ $u->{groups} // [] }, 'a user in no group: groups absent or empty');

is_204(gpatch($g1, add_op($alice, $bob)), 'add alice and bob to Readers');
is_204(gpatch($g2, add_op($alice)), 'add alice to Writers');

my $r = $t->get("Users/$alice");
is_scim_json($r, 200, 'GET alice');
my @gr = sort { ($a->{display} // '') cmp ($b->{display} // '') } @{ $r->{json}{groups} // [] };
is(scalar @gr, 2, 'alice has two groups');
is_deeply($gr[0], { value => $g1, '$ref' => "$BASE/Groups/$g1", display => 'Readers', type => 'direct' },
          'groups[]: {value, $ref, display, type: direct} for Readers') or diag explain \@gr;
is_deeply($gr[1], { value => $g2, '$ref' => "$BASE/Groups/$g2", display => 'Writers', type => 'direct' },
          'groups[]: Writers');
is_deeply(api_groups($bob), [ $g1 ], 'bob: Readers only');

$r = $t->get('Users?' . qs(filter => 'userName eq "' . ($r->{json}{userName} // '') . '"'));
is_list_response($r, 1, 1, 'alice found by userName');
is_deeply([ sort map { $_->{value} } @{ (($r->{json}{Resources} // [])->[0] // {})->{groups} // [] } ],
          [ sort($g1, $g2) ], 'the list answer carries groups too');

$r = $t->get("Users/$alice?excludedAttributes=groups");
ok($r->{status} == 200 && !exists $r->{json}{groups}, 'excludedAttributes=groups drops them');
$r = $t->get("Users/$alice?attributes=groups");
is_deeply([ sort map { $_->{value} } @{ $r->{json}{groups} // [] } ], [ sort($g1, $g2) ],
          'attributes=groups returns them');

is_204(gpatch($g1, rem_op($alice)), 'remove alice from Readers');
is_deeply(api_groups($alice), [ $g2 ], 'alice: Writers only');
is_deeply(api_groups($bob), [ $g1 ], 'bob untouched');

is_204(gpatch($g2, { op => 'Replace', path => 'displayName', value => 'Authors' }), 'rename Writers');
is((($t->get("Users/$alice")->{json}{groups} // [])->[0] // {})->{display}, 'Authors',
   'alice\'s groups[].display follows the rename');

# the member's display follows the user's rename
my $ar = $t->patch("Users/$alice", patch_body({ op => 'Replace', path => 'displayName', value => 'Alice Liddell' }));
is_scim_json($ar, 200, 'user PATCH -> 200');
is_deeply([ map { $_->{value} } @{ $ar->{json}{groups} // [] } ], [ $g2 ],
          'the user PATCH answer carries the groups');
my ($am) = grep { ($_->{value} // '') eq $alice } @{ $t->get("Groups/$g2")->{json}{members} // [] };
is($am->{display} // '', 'Alice Liddell', 'the group\'s members[].display follows the user\'s rename');

# groups is readOnly: requests cannot write it
my $al = $t->get("Users/$alice")->{json};
my %put = %$al;
delete @put{qw(id meta groups)};
$r = $t->put("Users/$alice", { %put, groups => [ { value => $g1 } ] });
is_scim_json($r, 200, 'PUT user with groups: [Readers] -> 200 (readOnly: ignored)');
is_deeply([ map { $_->{value} } @{ $r->{json}{groups} // [] } ], [ $g2 ], 'the PUT answer shows the real groups');
is_deeply(user_groups($alice), [ $g2 ], 'Redis reverse set unchanged');
is_deeply(member_ids($g1), [ $bob ], 'Readers unchanged');
$r = $t->put("Users/$alice", { %put });
is_scim_json($r, 200, 'PUT user without groups -> 200');
is_deeply(api_groups($alice), [ $g2 ], 'a PUT without groups does not drop the memberships');
is_deeply(member_ids($g2), [ $alice ], 'Authors still has alice');

$r = $t->patch("Users/$alice", patch_body({ op => 'Add', path => 'groups', value => [ { value => $g1 } ] }));
ok($r->{status} == 400 || $r->{status} == 200,
   "PATCH user Add groups -> 400 (mutability) or ignored (got $r->{status})");
is_deeply(user_groups($alice), [ $g2 ], '... alice not added to Readers');
is_deeply(member_ids($g1), [ $bob ], '... Readers unchanged');

my $carl = $t->post('Users', entra_user(displayName => 'Carl', groups => [ { value => $g1 } ]));
is_scim_json($carl, 201, 'POST user with groups -> 201 (readOnly: ignored)');
my $cid = $carl->{json}{id} // 'none';
ok(!@{ $carl->{json}{groups} // [] }, '... no groups in the answer');
is_deeply(member_ids($g1), [ $bob ], '... not added to Readers');

# ---------------------------------------------- user delete, group delete

my $dave = new_user(displayName => 'Dave');
my @dg = map { new_group("Dave's $_", $dave, $bob) } 1 .. 3;
is_deeply(user_groups($dave), [ sort @dg ], 'dave in three groups');
is($t->delete("Users/$dave")->{status}, 204, 'DELETE dave -> 204');
for my $i (0 .. 2) {
    is_deeply(member_ids($dg[$i]), [ $bob ], "dave left group $i (member set)");
    is_deeply(api_members($dg[$i]), [ $bob ], "dave left group $i (GET)");
}
is($t->redis_ngroups_of($P, $dave), 0, 'dave\'s reverse set is gone');
is_deeply($t->redis_mentions($P, $dave), [], 'no key, field or member mentions dave');
is_list_response($t->get('Groups?' . qs(filter => qq(members.value eq "$dave"))), 0, 0,
                 'no group lists dave as member');
is_scim_error(gpatch($dg[0], add_op($dave)), 400, 'invalidValue', 'adding the deleted user -> 400 invalidValue');

is($t->delete("Groups/$dg[1]")->{status}, 204, 'DELETE one of bob\'s groups');
is_deeply(user_groups($bob), [ sort($g1, $dg[0], $dg[2]) ], 'bob\'s reverse set lost it');
is_deeply(api_groups($bob), [ sort($g1, $dg[0], $dg[2]) ], 'bob\'s groups attribute lost it');

# ------------------------------------------------------------ nested

my $kid = new_user(displayName => 'Kid');
my $child = new_group('Child', $kid);
my $parent = new_group('Parent', $bob);

is_204(gpatch($parent, add_op($child)), 'Add a group as a member of a group -> 204');
$r = $t->get("Groups/$parent");
my ($cm) = grep { ($_->{value} // '') eq $child } @{ $r->{json}{members} // [] };
is_deeply($cm, { value => $child, '$ref' => "$BASE/Groups/$child", display => 'Child', type => 'Group' },
          'the nested member: type Group, $ref to /Groups') or diag explain $r->{json}{members};
my ($bm) = grep { ($_->{value} // '') eq $bob } @{ $r->{json}{members} // [] };
is($bm->{type} // '', 'User', 'the user member: type User');
is_deeply(group_parents($child), [ $parent ], 'Redis: memberof: child -> parent');
is_deeply(user_groups($kid), [ $child ], 'the child\'s member is not put into the parent directly');
ok(!grep({ ($_->{value} // '') eq $parent && ($_->{type} // '') eq 'direct' }
         @{ $t->get("Users/$kid")->{json}{groups} // [] }),
   'the kid\'s groups do not list the parent as direct');
is_list_response($t->get('Groups?' . qs(filter => qq(members.value eq "$child"))), 1, 1,
                 'members.value eq <child group> finds the parent');

my $pg = $t->post('Groups', { schemas => [URN_GROUP], displayName => 'Grandparent',
                              members => [ { value => $parent, type => 'Group' }, { value => $kid } ] });
is_scim_json($pg, 201, 'POST a group with a group among its initial members -> 201');
my $gp = $pg->{json}{id} // 'none';
my %types = map { ($_->{value} // '') => ($_->{type} // '') } @{ $pg->{json}{members} // [] };
is_deeply(\%types, { $parent => 'Group', $kid => 'User' }, 'member types in the 201');
is_deeply(group_parents($parent), [ $gp ], 'Redis: memberof: parent -> grandparent');

is_scim_error(gpatch($child, add_op($child)), 400, 'invalidValue', 'a group as its own member -> 400 invalidValue');
is_deeply(member_ids($child), [ $kid ], '... nothing changed');

is_204(gpatch($parent, { op => 'Replace', path => 'displayName', value => 'Parent 2' }), 'rename the parent');
is_204(gpatch($child, { op => 'Replace', path => 'displayName', value => 'Child 2' }), 'rename the child');
($cm) = grep { ($_->{value} // '') eq $child } @{ $t->get("Groups/$parent")->{json}{members} // [] };
is($cm->{display} // '', 'Child 2', 'the nested member\'s display follows its rename');

is_204(gpatch($parent, { op => 'Remove', path => qq(members[value eq "$child"]) }),
       'Remove the nested group by members[value eq]');
is_deeply(group_parents($child), [], 'its parent entry is gone');
is_deeply(member_ids($parent), [ $bob ], 'the parent keeps bob');

is_204(gpatch($parent, add_op($child)), 'add the child again');
is($t->delete("Groups/$child")->{status}, 204, 'DELETE the child group');
is_deeply(member_ids($parent), [ $bob ], 'the parent\'s member set lost the child');
is_deeply(api_members($parent), [ $bob ], 'GET parent: the child is gone');
is($t->redis_ngroups_of($P, $child), 0, 'the child\'s parent set is gone');
is_deeply(user_groups($kid), [ $gp ], 'the kid keeps only the grandparent');

my $child2 = new_group('Child B', $kid);
is_204(gpatch($parent, add_op($child2)), 'another child in the parent');
is($t->delete("Groups/$parent")->{status}, 204, 'DELETE the parent (itself a member of the grandparent)');
is_deeply(group_parents($child2), [], 'the remaining child has no parent entry left');
is_deeply(member_ids($gp), [ $kid ], 'the grandparent lost the parent');
ok(!grep({ $_ eq $parent } @{ user_groups($bob) }), 'bob\'s reverse set lost the parent');

# ------------------------------------------- concurrency: 6 x 10 adds

my @pool = map { new_user(displayName => "Pool $_") } 0 .. 59;

my $cg = new_group('Concurrent A');
my $out = $t->parallel(6, sub {
    my $i = shift;
    my $rr = $t->patch("Groups/$cg", patch_body(add_op(@pool[10 * $i .. 10 * $i + 9])), keepalive => 0);
    return $rr->{status};
});
is_deeply(statuses(@$out), { 204 => 6 }, '6 clients, one PATCH of 10 members each, at once: six 204');
is($t->redis_nmembers($P, $cg), 60, 'the member set holds 60');
is(scalar @{ api_members($cg) }, 60, 'GET lists 60 members');
is(scalar(grep { $t->redis_has_group($P, $_, $cg) } @pool), 60,
   'all 60 users have the reverse entry');

my $cg2 = new_group('Concurrent B');
$out = $t->parallel(6, sub {
    my $i = shift;
    my @st;
    for my $k (0 .. 9) {
        push @st, $t->patch("Groups/$cg2", patch_body(add_op($pool[10 * $i + $k])))->{status};
    }
    return \@st;
});
is_deeply(statuses(map { ref $_ ? @$_ : 'died' } @$out), { 204 => 60 },
          '6 clients, 10 single-member PATCHes each, at once: sixty 204');
is($t->redis_nmembers($P, $cg2), 60, 'the member set holds 60');
is(scalar(grep { $t->redis_has_group($P, $_, $cg2) } @pool), 60,
   'all 60 users have the reverse entry');

# adds racing renames of the same group: no acknowledged add is lost
my $cg3 = new_group('Concurrent C');
$out = $t->parallel(6, sub {
    my $i = shift;
    my @st;
    for my $k (0 .. 9) {
        my $rr;
        if ($i < 3) {
            $rr = $t->patch("Groups/$cg3", patch_body(add_op(@pool[20 * $i + 2 * $k, 20 * $i + 2 * $k + 1])));
        } else {
            $rr = $t->patch("Groups/$cg3", patch_body(
                { op => 'Replace', path => 'displayName', value => "Concurrent C $i.$k" },
                add_op($pool[10 * $i + $k])));
        }
        push @st, [ $rr->{status}, $i, $k ];
    }
    return \@st;
});
my @all = map { ref $_ ? @$_ : [ 'died', -1, -1 ] } @$out;
my @adds = grep { $_->[1] < 3 } @all;
is_deeply(statuses(map { $_->[0] } @adds), { 204 => 30 }, 'member-only PATCHes racing renames: all 204');
ok(!grep({ $_->[0] !~ /^(?:204|409|503)$/ } @all), 'renames: 204 (or a clean 409/503)')
    or diag explain statuses(map { $_->[0] } @all);
my %want;
for my $s (@all) {
    next unless $s->[0] eq '204';
    my ($i, $k) = @$s[1, 2];
    if ($i < 3) { $want{$_} = 1 for @pool[20 * $i + 2 * $k, 20 * $i + 2 * $k + 1] }
    else        { $want{ $pool[10 * $i + $k] } = 1 }
}
my %have = map { $_ => 1 } @{ member_ids($cg3) };
is_deeply([ sort grep { !$have{$_} } keys %want ], [], 'no acknowledged member lost');
my $cname = $t->get("Groups/$cg3?excludedAttributes=members")->{json}{displayName} // '';
is($t->redis_cmd('HGET', "${P}Group:idx:displayName", lc $cname), $cg3, 'the final name is indexed');
my $h = $t->redis_cmd('HGETALL', "${P}Group:idx:displayName") // [];
my %idx = @$h;
is(scalar(grep { $_ eq $cg3 } values %idx), 1, 'exactly one index entry points to the group');

# -------------------------- member PATCH racing a group DELETE (30 times)

my @rp = @pool[0 .. 5];
my $rchild = new_group('Race Child');
my @dangling;
my %pst;
for my $batch (0 .. 2) {
    my @rg = map { new_group("Race $batch.$_", $rp[0], $rchild) } 0 .. 9;
    $out = $t->parallel(20, sub {
        my $i = shift;
        my $g = $rg[int($i / 2)];
        if ($i % 2) {
            sleep(rand(0.004));
            return [ 'D', $t->delete("Groups/$g", keepalive => 0)->{status} ];
        }
        my @st;
        for my $k (1 .. 5) {
            my $s = $t->patch("Groups/$g", patch_body(add_op($rp[$k]), rem_op($rp[$k - 1])))->{status};
            push @st, $s;
            last if $s != 204;
        }
        return [ 'P', @st ];
    });
    for my $i (0 .. 19) {
        my $o = $out->[$i];
        if (!ref $o) { $pst{died}++; next }
        my ($kind, @st) = @$o;
        $pst{"$kind$_"}++ for @st;
    }
    for my $g (@rg) {
        push @dangling, "Group:$g still exists" if $t->redis_cmd('HEXISTS', "${P}Group:docs", $g);
        push @dangling, "Group:$g:members exists" if $t->redis_nmembers($P, $g);
        for my $m (@rp) {
            push @dangling, "User:$m:groups has $g" if $t->redis_has_group($P, $m, $g);
        }
        push @dangling, "Group:$rchild:groups has $g"
            if $t->redis_has_group($P, $rchild, $g);
    }
}
is($pst{D204} // 0, 30, '30 group DELETEs racing member PATCHes: all 204') or diag explain \%pst;
ok(!grep({ /^P/ && !/^P(?:204|404)$/ } keys %pst), 'the racing PATCHes answered 204 or 404')
    or diag explain \%pst;
ok(!$pst{died}, 'no client died') or diag explain \%pst;
is_deeply(\@dangling, [], 'no dangling reverse entry or member set after 30 races');
note(explain \%pst);

# --------------------------- member add racing a user DELETE (15 times)

my $ug = new_group('User Race');
my @udang;
my %ust;
for my $batch (0 .. 2) {
    my @vu = map { new_user(displayName => "Victim $batch.$_") } 0 .. 4;
    $out = $t->parallel(10, sub {
        my $i = shift;
        my $v = $vu[int($i / 2)];
        if ($i % 2) {
            sleep(rand(0.004));
            return 'D' . $t->delete("Users/$v", keepalive => 0)->{status};
        }
        return 'P' . $t->patch("Groups/$ug", patch_body(add_op($v)), keepalive => 0)->{status};
    });
    $ust{ $_ // 'died' }++ for @$out;
    for my $v (@vu) {
        push @udang, "member set has $v" if $t->redis_is_member($P, $ug, $v);
        push @udang, "User:$v:groups exists" if $t->redis_ngroups_of($P, $v);
    }
}
is($ust{D204} // 0, 15, '15 user DELETEs racing member adds: all 204') or diag explain \%ust;
ok(!grep({ /^P/ && !/^P(?:204|400)$/ } keys %ust), 'the racing adds answered 204 or 400')
    or diag explain \%ust;
is_deeply(\@udang, [], 'no deleted user left in the group or with a reverse set');

# ----------------------------------------------------------------- scale

# 5,100 users through the API (8 clients)
my $t0 = time;
$out = $t->parallel(8, sub {
    my $i = shift;
    my @ids;
    for my $k (0 .. 637) {
        my $rr = $t->post('Users', { schemas => [URN_USER], userName => "scale-$i-$k\@example.com",
                                     displayName => "Scale $i.$k" });
        return "HTTP $rr->{status} $rr->{content}" unless $rr->{status} == 201;
        push @ids, $rr->{json}{id};
    }
    return \@ids;
}, timeout => 120);
my @su = map { ref $_ ? @$_ : () } @$out;
is(scalar @su, 8 * 638, '5,104 users created through the API')
    or diag explain [ grep { !ref $_ } @$out ];
note(sprintf('created %d users in %.1f s', scalar @su, time - $t0));
my @spare = splice(@su, 5000);

my $small = new_group('Scale Small', @su[0 .. 99]);
my $big = new_group('Scale Big');
my @bst;
for (my $i = 0; $i < 5000; $i += 1000) {
    push @bst, gpatch($big, add_op(@su[$i .. $i + 999]))->{status};
}
is_deeply(statuses(@bst), { 204 => 5 }, '5,000 members added in PATCHes of 1,000 values');
is($t->redis_nmembers($P, $big), 5000, 'the big group holds 5,000');
is($t->redis_nmembers($P, $small), 100, 'the small group holds 100');
is($t->redis_has_group($P, $su[4321], $big), 1, 'reverse entries written');

$r = $t->get("Groups/$big");
is_scim_json($r, 200, 'GET the big group with its members');
my @bm = @{ $r->{json}{members} // [] };
is(scalar @bm, 5000, '... 5,000 members listed');
my %seen = map { ($_->{value} // '') => 1 } @bm;
is(scalar keys %seen, 5000, '... all distinct');
is(scalar(grep { ($_->{'$ref'} // '') eq "$BASE/Users/$_->{value}" && ($_->{type} // '') eq 'User'
                 && ($_->{display} // '') =~ /^Scale / } @bm), 5000,
   '... each with $ref, type and display');

# a stored member set of 100,000 (ids written to the set directly: the set's
# size is what is measured; nothing reads them as users)
my $huge = new_group('Scale Huge');
for my $c (0 .. 99) {
    $t->redis_cmd('ZADD', "${P}members",
                  map { (0, "$huge\0" . sprintf('00000000-0000-4000-8000-%012d', $c * 1000 + $_)) } 0 .. 999);
}
is($t->redis_nmembers($P, $huge), 100_000, 'a member set of 100,000 ids');

# add-one-member latency at 100, 5,000 and 100,000 members, interleaved
my (%lat, %lst);
for my $k (0 .. 49) {
    for my $c ([small => $small], [big => $big], [huge => $huge]) {
        my $rr = gpatch($c->[1], add_op($spare[$k]));
        push @{ $lat{ $c->[0] } }, $rr->{elapsed};
        $lst{ $rr->{status} }++;
    }
}
is_deeply(\%lst, { 204 => 150 }, '150 add-one-member PATCHes: all 204');
my %med = map { $_ => median(@{ $lat{$_} }) } keys %lat;
diag(sprintf('add-one-member median: %.2f ms at 100, %.2f ms at 5,000, %.2f ms at 100,000 members',
             map { 1000 * $med{$_} } qw(small big huge)));
ok($med{big} < 3 * $med{small} + 0.002,
   'add-one-member at 5,000 members costs about what it costs at 100 (median < 3x + 2 ms)');
ok($med{huge} < 3 * $med{small} + 0.002,
   'add-one-member at 100,000 members costs about what it costs at 100 (median < 3x + 2 ms)');
is($t->redis_nmembers($P, $big), 5050, 'the big group holds 5,050');
is($t->redis_nmembers($P, $huge), 100_050, 'the huge set holds 100,050');

# remove-one-member likewise
%lat = ();
%lst = ();
for my $k (0 .. 49) {
    for my $c ([small => $small], [big => $big], [huge => $huge]) {
        my $rr = gpatch($c->[1], rem_op($spare[$k]));
        push @{ $lat{ $c->[0] } }, $rr->{elapsed};
        $lst{ $rr->{status} }++;
    }
}
is_deeply(\%lst, { 204 => 150 }, '150 remove-one-member PATCHes: all 204');
%med = map { $_ => median(@{ $lat{$_} }) } keys %lat;
diag(sprintf('remove-one-member median: %.2f ms at 100, %.2f ms at 5,000, %.2f ms at 100,000 members',
             map { 1000 * $med{$_} } qw(small big huge)));
ok($med{huge} < 3 * $med{small} + 0.002,
   'remove-one-member at 100,000 members costs about what it costs at 100');
is($t->redis_nmembers($P, $huge), 100_000, 'the huge set is back to 100,000');
is(scalar(grep { $t->redis_ngroups_of($P, $_) } @spare[0 .. 49]), 0,
   'the spare users\' reverse sets are empty again');

# GET ?excludedAttributes=members: same cost at any size
%lat = ();
my $bad = 0;
for my $k (0 .. 29) {
    for my $c ([small => $small], [big => $big], [huge => $huge]) {
        my $rr = $t->get("Groups/$c->[1]?excludedAttributes=members");
        push @{ $lat{ $c->[0] } }, $rr->{elapsed};
        $bad++ unless $rr->{status} == 200 && !exists $rr->{json}{members};
    }
}
is($bad, 0, '90 GETs with excludedAttributes=members: 200 and no members');
%med = map { $_ => median(@{ $lat{$_} }) } keys %lat;
my @full = map { $t->get("Groups/$huge")->{elapsed} } 1 .. 3;
diag(sprintf('GET excludedAttributes=members median: %.2f ms at 100, %.2f ms at 5,000, '
             . '%.2f ms at 100,000 members (with members at 100,000: %.1f ms)',
             (map { 1000 * $med{$_} } qw(small big huge)), 1000 * median(@full)));
ok($med{big} < 3 * $med{small} + 0.002, 'GET excludedAttributes=members at 5,000 ~ at 100');
ok($med{huge} < 3 * $med{small} + 0.002, 'GET excludedAttributes=members at 100,000 ~ at 100');

$t->redis_cmd('CONFIG', 'RESETSTAT');
$r = $t->get('Groups?' . entra_filter_qs('displayName', 'Scale Huge') . '&excludedAttributes=members');
is_list_response($r, 1, 1, 'Entra lookup of the huge group by displayName');
ok(!exists(((($r->{json}{Resources} // [])->[0]) // {})->{members}), '... without members');
my %calls;
for my $l (split /\r?\n/, $t->redis_cmd('INFO', 'commandstats') // '') {
    $calls{$1} = $2 if $l =~ /^cmdstat_([^:]+):calls=(\d+)/;
}
ok(!grep({ /^(?:smembers|sscan|sort|sort_ro|sunion|sinter|srandmember|spop|zrangebylex|zrevrangebylex|zlexcount|zscan)$/ } keys %calls),
   '... and no member set was read') or diag explain \%calls;

# clean up the synthetic ids, then delete the big groups through the API
$t->redis_cmd('ZREMRANGEBYLEX', "${P}members", "[$huge\0", "($huge\1");
for my $g ($huge, $big, $small) {
    is($t->delete("Groups/$g", timeout => 30)->{status}, 204, 'DELETE a scale group');
}
is(scalar(grep { $t->redis_ngroups_of($P, $_) } @su[0 .. 199], @su[4800 .. 4999]), 0,
   'deleting the 5,000-member group cleaned its members\' reverse sets');

# everything this file did left the tenant consistent (t/lib/ScimCheck.pm)
my ($problems, $stats) = ScimCheck::check_tenant($t, $T,
                                                 get => sub { $t->get($_[0]) });
is_deeply($problems, [], "ScimCheck: indexes and member sets of $T match "
          . "its documents ($stats->{users} users, $stats->{groups} groups, "
          . "$stats->{memberships} memberships)")
    or diag join("\n", @$problems[0 .. ($#$problems < 30 ? $#$problems : 29)]);

$t->finish;
