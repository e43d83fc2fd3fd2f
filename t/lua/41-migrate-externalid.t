# tools/scim-migrate-layout, layout 2 -> 3: the externalId indexes
# (hashes externalId -> id in layout 2) become zsets "<externalId>\0<id>"
# and User:reports is built from User:manager, in bounded batches (HSCAN,
# at most -b fields a script), exactly as create.lua writes them in
# layout 3, values holding NUL included; a run
# stopped half-way is finished by the next; a second run does nothing;
# other tenants and the other keys are untouched.

use strict;
use warnings;

use lib 't/lib';
use Test::More;
use ScimTest;
use ScimLua;

my $t = ScimTest->new(module => 0);
my $tool = ScimTest->repo . '/tools/scim-migrate-layout';
my $port = $t->redis_port;

my $ref = ScimLua->new($t, 'ref');
my $old = ScimLua->new($t, 'old');
my $other = ScimLua->new($t, 'other');

# the reference in layout 3: 230 users, 120 of them with an externalId
# (one holding NUL, one empty-looking "0"), groups with and without
my %uext;
for my $i (1 .. 230) {
    my $x = $i % 2 ? "ext-$i" : undef;
    $x = "nul\0$i" if $i == 7;
    $x = '0' if $i == 9;
    $x = "ext-$i" if $i == 230;
    $uext{"u$i"} = $x if defined $x;
    is_deeply($ref->user("u$i", "User $i", defined $x ? (ext => $x) : ()),
              [1, $i, undef], "reference user u$i") if $i <= 2;
    next if $i <= 2;
    $ref->user("u$i", "User $i", defined $x ? (ext => $x) : (),
               $i % 3 ? () : (manager => $i % 2 ? 'u1' : 'u2'));
}
$ref->group('g1', 'One', ext => 'gx1', members => ['u1']);
$ref->group('g2', 'Two');
$ref->group('g3', 'Three', ext => "gx\0three");
is($ref->cmd('ZCARD', $ref->key('User:idx:externalId')), scalar(keys %uext),
   'reference: one entry a user with an externalId');

is($ref->cmd('ZCARD', $ref->key('User:reports')), 76,
   'reference: 76 users with a manager');

# the same tenant in layout 2: everything as the reference, the
# externalId indexes as hashes, no User:reports
for my $k (map { s/^\Qscim:{ref}:\E//r } $ref->keys) {
    next if $k eq 'User:reports';
    if ($k =~ /idx:externalId$/) {
        for my $e (@{ $t->redis_cmd('ZRANGE', $ref->key($k), 0, -1) }) {
            my $i = rindex($e, "\0");
            $t->redis_cmd('HSET', $old->key($k), substr($e, 0, $i),
                          substr($e, $i + 1));
        }
        next;
    }
    my $d = $t->redis_cmd('DUMP', $ref->key($k));
    $t->redis_cmd('RESTORE', $old->key($k), 0, $d) if defined $d;
}
is($t->redis_cmd('HLEN', $old->key('User:idx:externalId')), scalar(keys %uext),
   'layout 2: a hash of as many');

# another tenant in layout 2, left alone
$t->redis_cmd('HSET', $other->key('User:idx:externalId'), 'keep', 'x1');

sub content {
    my ($k) = @_;
    my $type = $t->redis_cmd('TYPE', $k);
    return [$type] if $type eq 'none';
    return [$type, $t->redis_cmd('GET', $k)] if $type eq 'string';
    my $all = $type eq 'hash' ? $t->redis_cmd('HGETALL', $k)
            : $type eq 'zset' ? $t->redis_cmd('ZRANGE', $k, 0, -1,
                                              'WITHSCORES')
            : $t->redis_cmd('SMEMBERS', $k);
    return [$type, sort @$all];
}

sub migrate {
    my @args = @_;
    my $out = `'$tool' -p $port @args 2>&1`;
    return ($? >> 8, $out);
}

# a run stopped half-way: one batch of 40 moved by hand, as the tool's
# script does (copy, delete from the hash)
my $uk = $old->key('User:idx:externalId');
my $r = $t->redis_cmd('HSCAN', $uk, 0, 'COUNT', 1000);
my %h = @{ $r->[1] };
my @some = (sort keys %h)[0 .. 39];
for my $f (@some) {
    $t->redis_cmd('ZADD', "$uk:layout3", 0, "$f\0$h{$f}");
    $t->redis_cmd('HDEL', $uk, $f);
}

my ($rc, $out);
my $seen = $t->redis_monitor(sub { ($rc, $out) = migrate('-b', 25, 'old') });
is($rc, 0, 'migrate: exit 0') or diag $out;
like($out, qr/ @{[ keys(%uext) - 40 + 2 ]} externalId index entries moved/,
     '... the entries left in the hashes moved') or diag $out;
like($out, qr/ 76 User:reports entries added/, '... the reports added')
    or diag $out;

my @hscan = grep { $_->[0] eq 'HSCAN' } @$seen;
ok(@hscan >= 2, 'HSCAN: ' . scalar(@hscan) . ' calls');
is_deeply([ grep { ($_->[4] // 0) > 25 } @hscan ], [], '... of COUNT 25');
my @ext = grep { $_->[0] eq 'EVAL' && $_->[2] == 2 } @$seen;
ok(@ext >= 4 + 4, 'in batches: ' . scalar(@ext) . ' scripts');
is_deeply([ grep { @$_ - 5 > 25 } @ext ], [], '... of at most 25 fields');
ok(!grep({ $_->[0] eq 'KEYS' || $_->[0] eq 'HGETALL' } @$seen),
   'no KEYS, no HGETALL');

for my $k (map { s/^\Qscim:{ref}:\E//r } $ref->keys) {
    is_deeply(content($old->key($k)), content($ref->key($k)),
              "raw: $k as in the reference");
}
is($t->redis_cmd('EXISTS', "$uk:layout3",
                 $old->key('Group:idx:externalId') . ':layout3'), 0,
   'no copy left');
is_deeply(content($other->key('User:idx:externalId')), ['hash', 'keep', 'x1'],
          'another tenant untouched');

# through the scripts
# (one match: the document, read; more: -7 and the ids)
sub ext_found {
    my ($v, $type) = @_;
    my $r = $old->run('find_ext', [$old->keys], $v, $type, '0');
    return [] unless ref $r eq 'ARRAY';
    return [sort @$r[1 .. $#$r]] if ($r->[0] // '') eq '-7';
    return [($r->[0] // '') =~ /"id":"([^"]+)"/];
}
is_deeply(ext_found("nul\0" . 7, 'User'), ['u7'],
          'find_ext of the value holding NUL');
is_deeply(ext_found('0', 'User'), ['u9'], 'find_ext "0"');
is_deeply(ext_found("gx\0three", 'Group'), ['g3'], 'find_ext of a group');
is_deeply($old->user('u999', 'New', ext => 'ext-1'), [1, 234, undef],
          'a create with a taken externalId after it (not unique)');
is_deeply(ext_found('ext-1', 'User'), ['u1', 'u999'], '... both found');

# again: nothing to do
my %before = map { $_ => content($_) } $old->keys;
($rc, $out) = migrate('old');
is($rc, 0, 'again: exit 0') or diag $out;
like($out, qr/ 0 externalId index entries moved and 0 User:reports/,
     '... nothing moved, nothing added');
is_deeply({ map { $_ => content($_) } $old->keys }, \%before,
          '... nothing changed');

# a key of another type is an error, and is left alone
$t->redis_cmd('SET', $other->key('Group:idx:externalId'), 'x');
($rc, $out) = migrate('other');
is($rc, 1, 'an externalId index that is a string: exit 1');
like($out, qr/is a string/, '... says so') or diag $out;

$t->finish;
