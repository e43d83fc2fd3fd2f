# scan.lua alone against a bare redis-server: ids, documents, the
# literal prefilter, candidates, and its bounds.

use strict;
use warnings;

use lib 't/lib';
use Test::More;
use ScimTest;
use ScimLua;

my $t = ScimTest->new(module => 0);
my $l = ScimLua->new($t, 't1');

# scan(start | '', count, literal, member, bytes, docs, [ids])
sub scan {
    my ($start, $count, $lit, $member, $bytes, $docs, @ids) = @_;
    return scalar $l->run('scan', [$l->keys],
        $start, $count, 'User', '0', $lit, $member, $bytes, $docs, @ids);
}

for my $i (1 .. 6) {
    $l->user("u$i", $i % 2 ? "Sam$i" : "Kim$i");
}

is_deeply(scan(0, 4, '', '', 65536, '0'), [6, 4, 'u1', 'u2', 'u3', 'u4'],
          'ids only: total, walked, ids');
is_deeply(scan(4, 4, '', '', 65536, '0'), [6, 2, 'u5', 'u6'],
          'the rest');

my $r = scan(0, 10, '', '', 65536, '1');
is_deeply([@$r[0, 1]], [6, 6], 'documents: total, walked');
is_deeply([map { $r->[2 + 2 * $_] } 0 .. 5], [map { "u$_" } 1 .. 6],
          'ids with their documents');
is($r->[3][0], $l->doc('u1', 'Sam1', 1), 'a document as expand gives it');

# the literal: only documents holding it, in the member named, any case
$r = scan(0, 10, '[sS][aA][mM]', '"name":"', 65536, '1');
is_deeply([map { $r->[$_] } grep { $_ % 2 == 0 } 2 .. $#$r],
          ['u1', 'u3', 'u5'], 'the literal prefilter');
$r = scan(0, 10, '[sS][aA][mM]', '"id":"', 65536, '1');
is_deeply([@$r], [6, 6], 'the literal in another member: none');

# a document with a long s always leaves
$l->cmd('HSET', $l->key('User:docs'), 'u2',
        qq({"id":"u2","name":"Kim\xc5\xbf","meta":{"version":"W/\\"2\\""}}));
$r = scan(0, 10, 'zzz', '"name":"', 65536, '1');
is_deeply([map { $r->[$_] } grep { $_ % 2 == 0 } 2 .. $#$r], ['u2'],
          'U+017F: always a candidate');

# candidates the caller holds; ids not in Redis are dropped
$r = scan('', 10, '', '', 65536, '1', 'u6', 'nope', 'u1');
is_deeply([@$r[0, 1], $r->[2], $r->[4], scalar @$r], [3, 3, 'u6', 'u1', 6],
          'candidates: in their order, the missing one dropped');
$r = scan('', 2, '', '', 65536, '0', 'u6', 'u5', 'u4');
is_deeply($r, [2, 2, 'u6', 'u5'], 'candidates: at most count');

# the byte budget ends a batch after the document that reaches it
$r = scan(0, 10, '', '', 1, '1');
is_deeply([@$r[0, 1, 2]], [6, 1, 'u1'], 'budget: one document a call');
$r = scan(0, 10, 'nomatch', '"name":"', 10, '1');
ok($r->[1] < 6 && @$r == 2,
   'budget: what was searched counts too (4 x bytes)')
    or diag explain $r;

$t->finish;
