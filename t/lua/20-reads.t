# The read scripts alone against a bare redis-server: get, find,
# find_email, page, related, fetch, slice.

use strict;
use warnings;

use lib 't/lib';
use Test::More;
use ScimTest;
use ScimLua;

my $t = ScimTest->new(module => 0);
my $l = ScimLua->new($t, 't1');

$l->user('u1', 'Alice', ext => 'e1', emails => ['a@x.org', 'ab@x.org']);
$l->user('u2', 'Bob', manager => 'u1', emails => ['a@x.org']);
$l->group('g1', 'Inner', members => ['u1']);
$l->group('g2', 'Outer', members => ['u1', 'u2', 'g1']);

my $u1 = $l->doc('u1', 'Alice', 1);
my $u2 = $l->doc('u2', 'Bob', 2);
my $g1 = $l->doc('g1', 'Inner', 3);
my $g2 = $l->doc('g2', 'Outer', 4);

sub get {
    my ($type, $id, $want) = @_;
    return scalar $l->run('get', [$l->keys], $type, $id, $want // '0');
}

sub sorted_triples {
    my ($r) = @_;
    my @h = @$r[0, 1];
    my @t;
    for (my $i = 2; $i < @$r; $i += 3) { push @t, [@$r[$i .. $i + 2]] }
    return [@h, sort { $a->[0] cmp $b->[0] } @t];
}

# get
is_deeply(sorted_triples(get('User', 'u1')),
          [$u1, undef, ['g1', 'Group', 'Inner'], ['g2', 'Group', 'Outer']],
          "get user: doc, no manager, its groups");
is_deeply(get('User', 'u2'), [$u2, 'Alice', 'g2', 'Group', 'Outer'],
          "get user: its manager's display");
is_deeply(get('Group', 'g2'), [$g2, undef], 'get group without members');
is_deeply(sorted_triples(get('Group', 'g2', '1')),
          [$g2, undef, ['g1', 'Group', 'Inner'], ['u1', 'User', 'Alice'],
           ['u2', 'User', 'Bob']], 'get group with members, typed');
is(get('User', 'nope'), undef, 'get: no document, nil');

# slice: g2's members (g1, u1, u2 in the order of their ids) a slice at
# a time, the same triples as get's, the last id read to go on after
sub slice { scalar $l->run('slice', [$l->keys], @_) }
is_deeply(slice('g2', '', 2, '1'), [$g2, 'u1', 'g1', 'Group', 'Inner',
                                    'u1', 'User', 'Alice'],
          'slice: the group and its first 2 members, more after u1');
is_deeply(slice('g2', 'u1', 2, '0'), [undef, undef, 'u2', 'User', 'Bob'],
          'slice: after u1, the last one, no document');
is_deeply(slice('g2', '', 3, '1'), [$g2, undef, 'g1', 'Group', 'Inner',
                                    'u1', 'User', 'Alice', 'u2', 'User',
                                    'Bob'],
          'slice: all three in one, none after');
is_deeply(slice('g2', 'u2', 5, '0'), [undef, undef], 'slice: after the last');
is_deeply(slice('g2', 'g1', 1, '0'), [undef, 'u1', 'u1', 'User', 'Alice'],
          'slice: one after g1, more after it');
is(slice('nope', '', 5, '1'), undef, 'slice: no group, nil');

# find
sub find {
    my ($idx, $field, $type, $want) = @_;
    return scalar $l->run('find', [$l->keys], $field, $type, $want // '0');
}
is_deeply(find('name', 'bob', 'User'),
          [$u2, 'Alice', 'g2', 'Group', 'Outer'], 'find by name');
is_deeply(sorted_triples(scalar $l->run('find_ext', [$l->keys], 'e1', 'User', '0')),
          sorted_triples(get('User', 'u1')),
          'find_ext: the one user with that externalId, as get reads it');
is($l->run('find_ext', [$l->keys], 'e2', 'User', '0'), undef,
   'find_ext: none, nil');
is_deeply(find('name', 'inner', 'Group', '1'),
          [$g1, undef, 'u1', 'User', 'Alice'], 'find group with members');
is(find('name', 'nobody', 'User'), undef, 'find: none, nil');

# find_email: exact values only, not prefixes
sub find_email {
    return [sort @{ $l->run('find_email', [$l->keys],
                            $_[0]) }];
}
is_deeply(find_email('a@x.org'), ['u1', 'u2'], 'find_email: every user');
is_deeply(find_email('ab@x.org'), ['u1'], 'find_email: one');
is_deeply(find_email('a@x.or'), [], 'find_email: a prefix finds nothing');

# page
sub page {
    my ($type, $start, $count, $want) = @_;
    return scalar $l->run('page', [$l->keys], $start, $count, $type,
                          $want // '0');
}
is_deeply(page('User', 0, 0), [2], 'page count 0: the total alone');
my $r = page('User', 1, 5);
is($r->[0], 2, 'page: total');
is_deeply($r->[1], [$u2, 'Alice', 'g2', 'Group', 'Outer'],
          'page: from start, in creation order');
is(scalar @$r, 2, 'page: bounded by the ids');
$r = page('Group', 0, 2, '1');
is_deeply([$r->[1][0], $r->[2][0], scalar @{ $r->[2] }], [$g1, $g2, 11],
          'page of groups with members');

# related
is_deeply([sort @{ $l->run('related', [$l->keys], 'User', 'g2') }],
          ['g1', 'u1', 'u2'], "related: a group's members (listing users)");
is_deeply([sort @{ $l->run('related', [$l->keys], 'Group', 'u1') }],
          ['g1', 'g2'], "related: a user's groups (listing groups)");
is_deeply([sort @{ $l->run('related', [$l->keys], 'Group', 'g1') }],
          ['g2'], "related: a nested group's parents");
is_deeply($l->run('related', [$l->keys], 'Group', 'u'), [],
          'related: an id that prefixes another finds nothing');

# fetch: a page of mixed types; a deleted one is nil
$r = $l->run('fetch', [$l->keys],
    '1', 'User', 'u2', 'Group', 'g1', 'User', 'gone');
is_deeply($r, [[$u2, 'Alice', 'g2', 'Group', 'Outer'],
               [$g1, undef, 'u1', 'User', 'Alice'], undef],
          'fetch: documents in order, nil for a missing one');

# a script given another number of keys refuses to run: get takes the
# first 5 to 9 ("--! keys 5-9": a user's up to memberof, a group's up to
# members)
is_deeply([ScimLua->nkeys('get')], [5, 9], 'get takes the first 5 to 9 keys');
is(ScimLua->nkeys_for('get', 'User', 'u1', '0'), 5, '... 5 for a user');
is(ScimLua->nkeys_for('get', 'Group', 'g1', '1'), 9, '... 9 for a group');
my ($r2, $e) = $l->run_err('get', [($l->keys)[0 .. 3]], 'User', 'u1', '0');
ok(!defined $r2
   && ($e // '') =~ /takes the first 5 to 9 of the tenant's keys, got 4/,
   "get with 4 keys: an error") or diag $e;
($r2, $e) = $l->run_err('get', [($l->keys)[0 .. 9]], 'User', 'u1', '0');
ok(!defined $r2 && ($e // '') =~ /takes the first 5 to 9/,
   "get with 10 keys: an error") or diag $e;
($r2, $e) = $l->run_err('get', [$l->keys], 'Nope', 'u1', '0');
ok(!defined $r2 && ($e // '') =~ /no type/, 'an unknown type: an error')
    or diag $e;

$t->finish;
