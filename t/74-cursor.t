#!/usr/bin/perl

# Cursor pagination (RFC 9865, issue 11): "cursor" (empty: the first page)
# and "count" on GET /Users, /Groups (with and without a filter) and
# POST .search; nextCursor absent on the last page; full walks that see
# every resource existing for the whole walk exactly once while others
# are created and deleted between pages; tampered, other-query,
# malformed and expired cursors (400 invalidCursor / expiredCursor);
# cursor with startIndex (400 invalidValue); count=0, count above the
# maximum; the ServiceProviderConfig "pagination" block; member paging
# of a group of 5,000 members in pages of 100, ids checked against Redis,
# read from the members zset a page at a time (MONITOR).

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Time::HiRes qw(time sleep);
use MIME::Base64 qw(decode_base64 encode_base64);
use ScimTest;

my $t = ScimTest->new(workers => 2, timeout => 280);
my $T = 'acme';
my $P = "scim:{$T}:";

# a second location of the same tenant whose cursors live one second; a
# third with a key of its own (scim_cursor_key)
$t->write_file('cursor.key', join('', map { sprintf('%02x', int(rand(256))) } 1 .. 32) . "\n");
$t->write_config($t->standard_conf(server_extra => <<'EOF'));
    location /other/scim/v2/ {
        scim;
        scim_redis %%REDIS%%;
        scim_tenant other;
        scim_bearer_token_file %%TOKEN_FILE%%;
    }
    location /keyed/scim/v2/ {
        scim;
        scim_redis %%REDIS%%;
        scim_tenant acme;
        scim_bearer_token_file %%TOKEN_FILE%%;
        scim_cursor_key %%DIR%%/cursor.key;
    }
    location /short/scim/v2/ {
        scim;
        scim_redis %%REDIS%%;
        scim_tenant acme;
        scim_bearer_token_file %%TOKEN_FILE%%;
        scim_cursor_ttl 1s;
        scim_max_results 50;
    }
EOF
$t->start_nginx_ok;

# ---------------------------------------------------------------- helpers

sub new_user {
    my ($name) = @_;
    my $r = $t->post('Users', { schemas => [URN_USER], userName => $name });
    diag("create $name: HTTP $r->{status} $r->{content}") unless $r->{status} == 201;
    return $r->{json}{id};
}

sub new_group {
    my ($name, @members) = @_;
    my $r = $t->post('Groups', { schemas => [URN_GROUP], displayName => $name,
                                 members => [ map { { value => $_ } } @members ] });
    diag("create group $name: HTTP $r->{status} $r->{content}") unless $r->{status} == 201;
    return $r->{json}{id};
}

# GET <path>?<query> with the given cursor added
sub page {
    my ($path, $cursor, @q) = @_;
    my $qs = qs(@q, cursor => $cursor);
    return $t->get("$path?$qs");
}

# walk every page; $between->($n) runs after page n.  -> ([ids], [errors],
# pages, first page's response)
sub walk {
    my ($path, $q, $between) = @_;
    my (@ids, @err, $first, @names);
    my $cursor = '';
    my $n = 0;
    while (1) {
        my $r = page($path, $cursor, @$q);
        $first //= $r;
        if ($r->{status} != 200) {
            push @err, "page $n: HTTP $r->{status} $r->{content}";
            last;
        }
        push @ids, map { $_->{id} } @{ $r->{json}{Resources} // [] };
        push @names, map { $_->{userName} // $_->{displayName} // '' }
                     @{ $r->{json}{Resources} // [] };
        push @err, "page $n has startIndex" if exists $r->{json}{startIndex};
        $n++;
        last unless defined $r->{json}{nextCursor};
        push @err, "page $n: nextCursor is not base64url"
            unless $r->{json}{nextCursor} =~ /^[A-Za-z0-9_-]+$/;
        $cursor = $r->{json}{nextCursor};
        $between->($n) if $between;
        if ($n > 10_000) { push @err, 'no end'; last }
    }
    return (\@ids, \@err, $n, $first, \@names);
}

sub dups { my %c; $c{$_}++ for @_; return grep { $c{$_} > 1 } sort keys %c }

# walk forward, then back from the last page by previousCursor: the same
# pages in reverse; the first page has no previousCursor, every page of
# the walk back has a nextCursor, the first one's leads to the last page
# again
sub walk_back {
    my ($what, $path, $q) = @_;
    my (@fwd, @back, @err, $last);
    my $cursor = '';
    while (1) {
        my $r = page($path, $cursor, @$q);
        if ($r->{status} != 200) { push @err, "forward: HTTP $r->{status} $r->{content}"; last }
        push @fwd, [ map { $_->{id} } @{ $r->{json}{Resources} } ];
        push @err, 'the first page has a previousCursor'
            if @fwd == 1 && exists $r->{json}{previousCursor};
        push @err, 'page ' . scalar(@fwd) . ' has no previousCursor'
            if @fwd > 1 && !defined $r->{json}{previousCursor};
        $last = $r;
        last unless defined($cursor = $r->{json}{nextCursor});
        if (@fwd > 10_000) { push @err, 'no end'; last }
    }
    $cursor = $last->{json}{previousCursor};
    my $again;
    while (defined $cursor) {
        my $r = page($path, $cursor, @$q);
        if ($r->{status} != 200) { push @err, "back: HTTP $r->{status} $r->{content}"; last }
        unshift @back, [ map { $_->{id} } @{ $r->{json}{Resources} } ];
        push @err, 'a page of the walk back has no nextCursor'
            unless defined $r->{json}{nextCursor};
        if (@back == 1 && defined $r->{json}{nextCursor}) {
            my $n = page($path, $r->{json}{nextCursor}, @$q);
            $again = [ map { $_->{id} } @{ $n->{json}{Resources} // [] } ];
        }
        $cursor = $r->{json}{previousCursor};
        if (@back > 10_000) { push @err, 'no end'; last }
    }
    ok(@fwd > 2, "$what: " . scalar(@fwd) . ' pages forward');
    is_deeply(\@err, [], "$what: walks forward and back by previousCursor");
    is_deeply(\@back, [ @fwd[0 .. $#fwd - 1] ],
              '... the walk back returns the same pages in reverse');
    is_deeply($again, $fwd[-1], "... the last page's previousCursor page's nextCursor: the last page");
    return $last->{json}{previousCursor};
}

# ------------------------------------------------ ServiceProviderConfig

my $r = $t->get('ServiceProviderConfig');
is($r->{status}, 200, 'GET /ServiceProviderConfig');
my $pg = $r->{json}{pagination} // {};
ok(is_jtrue($pg->{cursor}) && is_jtrue($pg->{index}), 'pagination: cursor and index supported');
is($pg->{defaultPaginationMethod}, 'index', 'pagination: defaultPaginationMethod index');
is($pg->{defaultPageSize}, 200, 'pagination: defaultPageSize is scim_max_results');
is($pg->{maxPageSize}, 200, 'pagination: maxPageSize is scim_max_results');
is($pg->{cursorTimeout}, 3600, 'pagination: cursorTimeout 1h by default');
$r = $t->get('/short/scim/v2/ServiceProviderConfig');
is($r->{json}{pagination}{cursorTimeout}, 1, 'pagination: cursorTimeout is scim_cursor_ttl');
is($r->{json}{pagination}{maxPageSize}, 50, '... maxPageSize scim_max_results there');

# ------------------------------------------------------- an empty tenant

$r = page('Users', '');
is_scim_json($r, 200, 'cursor= on an empty tenant');
is($r->{json}{totalResults}, 0, '... totalResults 0');
ok(!exists $r->{json}{nextCursor}, '... no nextCursor');
ok(!exists $r->{json}{startIndex}, '... no startIndex in a cursor page');

# -------------------------------------------------------- 230 users

my @users = map { new_user(sprintf('walk-%03d@example.com', $_)) } 0 .. 229;
is(scalar(grep { defined } @users), 230, '230 users created');

my ($ids, $err, $n, $first) = walk('Users', [count => 25]);
is_deeply($err, [], 'walk of /Users in pages of 25: no error');
is($n, 10, '... 10 pages (the last one has no nextCursor)');
is_deeply($ids, \@users, '... every user once, in creation order');
is($first->{json}{totalResults}, 230, '... totalResults 230');
is($first->{json}{itemsPerPage}, 25, '... itemsPerPage 25');

# exactly 23 pages of 10: the last is full and has no nextCursor
($ids, $err, $n) = walk('Users', [count => 10]);
is($n, 23, 'pages of 10 over 230 users: 23 pages, none empty');
is_deeply($ids, \@users, '... every user once');

# no count: scim_max_results; count above it: the maximum
($ids, $err, $n, $first) = walk('/short/scim/v2/Users', []);
is($first->{json}{itemsPerPage}, 50, 'no count: pages of scim_max_results');
is($n, 5, '... 5 pages');
is_deeply($ids, \@users, '... every user once');
$r = page('/short/scim/v2/Users', '', count => 5000);
is($r->{json}{itemsPerPage}, 50, 'count above the maximum: the maximum');

# previousCursor
walk_back('/Users', 'Users', [count => 25]);
walk_back('/Users in pages of 10', 'Users', [count => 10]);
my $prev = walk_back('a scanned filter', 'Users', [filter => 'userName sw "walk-1"', count => 7]);

# a previousCursor tampered with, or of another query
my $praw = decode_base64(do { (my $s = $prev) =~ tr/-_/+\//; $s . '=' x ((4 - length($s) % 4) % 4) });
is(substr($praw, 2, 1), 'p', 'a previousCursor says so (the direction byte)');
for my $pos (0, 1, 2, 10, 22, 23, length($praw) - 1) {
    my $b = $praw;
    substr($b, $pos, 1) = chr(ord(substr($b, $pos, 1)) ^ 1);
    (my $s = encode_base64($b, '')) =~ tr/+\//-_/;
    $s =~ s/=+$//;
    $r = page('Users', $s, filter => 'userName sw "walk-1"', count => 7);
    is_scim_error($r, 400, 'invalidCursor', "a previousCursor with byte $pos changed");
}
is_scim_error(page('Users', $prev, filter => 'userName sw "walk-2"', count => 7), 400,
              'invalidCursor', 'a previousCursor of another filter');

# count=0: the total only
$r = page('Users', '', count => 0);
is_scim_json($r, 200, 'count=0 with a cursor');
is($r->{json}{totalResults}, 230, '... totalResults');
is(scalar @{ $r->{json}{Resources} // [] }, 0, '... no resources');
ok(!exists $r->{json}{nextCursor}, '... no nextCursor');

# attributes apply to cursor pages
$r = page('Users', '', count => 3, attributes => 'userName');
is_deeply([ sort keys %{ $r->{json}{Resources}[0] // {} } ], [qw(id schemas userName)],
          'attributes=userName on a cursor page');

# ------------------------------------- a walk while others come and go

# between pages: delete 3 users not yet walked and 3 already walked,
# create 3; every user that existed for the whole walk is seen once
my %deleted;
my @created;
my @pool = @users;
($ids, $err, $n) = walk('Users', [count => 20], sub {
    my ($k) = @_;
    for my $j (0 .. 2) {
        my $victim = $pool[($k * 37 + $j * 71) % @pool];
        next if $deleted{$victim};
        my $d = $t->del("Users/$victim");
        $deleted{$victim} = 1 if $d->{status} == 204;
    }
    push @created, new_user("during-$k-$_\@example.com") for 0 .. 2;
});
is_deeply($err, [], 'walk with creates and deletes between pages: no error');
my %seen = map { $_ => 1 } @$ids;
my @stayed = grep { !$deleted{$_} } @users;
is(scalar(grep { !$seen{$_} } @stayed), 0,
   'every user that existed for the whole walk was seen') or diag(scalar @stayed);
is_deeply([ dups(@$ids) ], [], '... and none twice');
ok(scalar(keys %deleted) > 10, '... while ' . scalar(keys %deleted) . ' were deleted');
is(scalar(grep { $seen{$_} } @created), scalar @created,
   '... users created during the walk come at its end (creation order)');
my @alive = (@stayed, @created);

# ---------------------------------------------------------- .search

my $search = sub {
    my ($path, $body) = @_;
    return $t->post($path, { schemas => ['urn:ietf:params:scim:api:messages:2.0:SearchRequest'], %$body });
};
my (@sids, $cur, $pages);
$cur = '';
while (1) {
    $r = $search->('Users/.search', { count => 40, cursor => $cur });
    last unless $r->{status} == 200;
    push @sids, map { $_->{id} } @{ $r->{json}{Resources} };
    $pages++;
    last unless defined($cur = $r->{json}{nextCursor});
}
is($r->{status}, 200, 'POST /Users/.search with cursor');
is_deeply([ sort @sids ], [ sort @alive ], '... walks every user once');
$r = $search->('Users/.search', { count => 40, cursor => 5 });
is_scim_error($r, 400, 'invalidCursor', '.search: a cursor that is not a string');
$r = $search->('Users/.search', { count => 40, cursor => '', startIndex => 2 });
is_scim_error($r, 400, 'invalidValue', '.search: cursor and startIndex');

# -------------------------------------------------------- filters

# a filter answered by a scan: offsets
($ids, $err, $n, $first) = walk('Users', [filter => 'userName sw "walk-1"', count => 7]);
is_deeply($err, [], 'walk of a scanned filter');
is_deeply([ sort @$ids ], [ sort grep { !$deleted{$_} } @users[100 .. 199] ],
          '... every match once');
is($first->{json}{totalResults}, scalar @$ids, '... totalResults');

# a scanned filter while matches come and go: keyed on the creation
# score of the page's last match, so deleting matches already walked
# shifts nothing
my @pool2 = grep { !$deleted{$_} } @users[0 .. 99];
my (%del2, @new2);
($ids, $err, $n) = walk('Users', [filter => 'userName sw "walk-0"', count => 9], sub {
    my ($k) = @_;
    # one match already walked, one ahead
    for my $victim ($pool2[$k * 9 - 3], $pool2[($k * 9 + 20) % @pool2]) {
        next if $del2{$victim};
        $del2{$victim} = 1 if $t->del("Users/$victim")->{status} == 204;
    }
    push @new2, new_user("walk-0new-$k\@example.com");
});
is_deeply($err, [], 'walk of a scanned filter with deletes and creates between pages');
my %s2 = map { $_ => 1 } @$ids;
is(scalar(grep { !$del2{$_} && !$s2{$_} } @pool2), 0, '... every match of the whole walk seen');
is_deeply([ dups(@$ids) ], [], '... none twice');
is(scalar(grep { $s2{$_} } @new2), scalar @new2, '... the matches created meanwhile at its end');
ok(keys(%del2) > 5, '... while ' . keys(%del2) . ' matches were deleted');
$deleted{$_} = 1 for keys %del2;
@alive = ((grep { !$deleted{$_} } @alive), @new2);

# sortBy: keyed on the (sort value, id) of the page's last match
my $names;
($ids, $err, $n, $first, $names) = walk('Users', [sortBy => 'userName', sortOrder => 'descending', count => 30]);
is_deeply($err, [], 'walk with sortBy');
is_deeply([ sort @$ids ], [ sort @alive ], '... every user once');
is_deeply($names, [ sort { $b cmp $a } @$names ], '... in the sorted order');

# a sorted walk while users come and go: between pages, delete users
# already walked and users ahead, create users that sort before and
# after the position; every user of the whole walk is seen exactly once
# (with an offset, each deletion behind the position would skip one)
my %uname;
@uname{@$ids} = @$names;
my @order = sort { $uname{$a} cmp $uname{$b} } @alive;
my (%del4, @new4);
($ids, $err, $n, $first, $names) = walk('Users', [sortBy => 'userName', count => 20], sub {
    my ($k) = @_;
    for my $victim (@order[$k * 20 - 3, $k * 20 - 11, ($k * 20 + 7) % @order]) {
        next if $del4{$victim};
        $del4{$victim} = 1 if $t->del("Users/$victim")->{status} == 204;
    }
    # (zz-sorted-NNN: each sorts after all before it)
    push @new4, new_user(sprintf('a-sorted-%03d@example.com', $k)),
                new_user(sprintf('zz-sorted-%03d@example.com', $k));
});
is_deeply($err, [], 'a sorted walk with deletes and creates between pages');
my %s4 = map { $_ => 1 } @$ids;
is(scalar(grep { !$del4{$_} && !$s4{$_} } @order), 0, '... every user of the whole walk seen')
    or diag(scalar(grep { !$del4{$_} && !$s4{$_} } @order) . ' missed');
is_deeply([ dups(@$ids) ], [], '... none twice');
is_deeply($names, [ sort @$names ], '... in the sorted order');
ok(keys(%del4) > 20, '... while ' . keys(%del4) . ' were deleted');
is(scalar(grep { $s4{$_} } @new4), scalar(@new4) / 2, '... those created after the position seen, not those before it')
    or diag(explain [ grep { !$s4{$_} } @new4 ]);
$deleted{$_} = 1 for keys %del4;
@alive = ((grep { !$deleted{$_} } @alive), @new4);

# ties (no user has a title): by id, deletes of walked users between pages
my %del5;
my @byid = sort @alive;
($ids, $err) = walk('Users', [sortBy => 'title', count => 25], sub {
    my ($k) = @_;
    for my $victim (@byid[$k * 25 - 1, $k * 25 - 2]) {
        $del5{$victim} = 1 if !$del5{$victim} && $t->del("Users/$victim")->{status} == 204;
    }
});
is_deeply($err, [], 'a walk sorted by an attribute none has');
is_deeply($ids, \@byid, '... every user once, in id order, none skipped')
    or diag(scalar(@$ids) . ' of ' . scalar(@byid));
$deleted{$_} = 1 for keys %del5;
@alive = grep { !$deleted{$_} } @alive;

# an index filter
$r = page('Users', '', filter => "userName eq \"walk-005\@example.com\"");
is($r->{json}{totalResults}, $deleted{$users[5]} ? 0 : 1, 'userName eq with cursor');
ok(!exists $r->{json}{nextCursor}, '... one page');

# ------------------------------------------------------------- groups

my @groups = map { new_group("walk group $_") } 0 .. 44;
($ids, $err, $n) = walk('Groups', [count => 10]);
is_deeply($err, [], 'walk of /Groups in pages of 10');
is($n, 5, '... 5 pages');
is_deeply($ids, \@groups, '... every group once, in creation order');

# root .search: users, then groups, by offset
@sids = ();
$cur = '';
my $rpages = 0;
while (1) {
    $r = $search->('.search', { count => 60, cursor => $cur });
    last unless $r->{status} == 200;
    push @sids, map { $_->{id} } @{ $r->{json}{Resources} };
    $rpages++;
    last unless defined($cur = $r->{json}{nextCursor});
}
is($r->{status}, 200, 'POST /.search with cursor') or diag($r->{content});
is_deeply([ sort @sids ], [ sort(@alive, @groups) ], '... walks every user and group once');
ok($rpages > 4, "... in $rpages pages");
is_deeply(\@sids, [ sort(@alive, @groups) ], '... in id order');

# root .search by id, exactly, while users and groups already walked go
my %isuser = map { $_ => 1 } @alive;
my (%del6, @rids);
$cur = '';
while (1) {
    $r = $search->('.search', { count => 40, cursor => $cur });
    last unless $r->{status} == 200;
    push @rids, map { $_->{id} } @{ $r->{json}{Resources} };
    last unless defined($cur = $r->{json}{nextCursor});
    for my $v (@rids[-1, -4]) {
        $del6{$v} = 1 if $t->del(($isuser{$v} ? 'Users/' : 'Groups/') . $v)->{status} == 204;
    }
}
is($r->{status}, 200, 'POST /.search with cursor while walked ones are deleted') or diag($r->{content});
is_deeply(\@rids, [ sort(@alive, @groups) ], '... every user and group once, none skipped');
ok(keys(%del6) > 10, '... while ' . keys(%del6) . ' were deleted');
@alive = grep { !$del6{$_} } @alive;
@groups = grep { !$del6{$_} } @groups;
$deleted{$_} = 1 for keys %del6;

# externalId eq (not unique): its matches by id, exactly
my @ext = sort map {
    $t->post('Users', { schemas => [URN_USER], userName => "ext-$_\@example.com",
                        externalId => 'shared-ext' })->{json}{id} } 1 .. 9;
my %del7;
($ids, $err, $n) = walk('Users', [filter => 'externalId eq "shared-ext"', count => 2], sub {
    my ($k) = @_;
    my $v = $ext[$k * 2 - 1];
    $del7{$v} = 1 if $t->del("Users/$v")->{status} == 204;
});
is_deeply($err, [], 'a walk of externalId eq with cursor');
is($n, 5, '... 5 pages of 2');
is_deeply($ids, \@ext, '... every match once, in id order, though walked ones were deleted');
@alive = (@alive, grep { !$del7{$_} } @ext);

# --------------------------------------------------- bad cursors

$r = page('Users', '', count => 5);
my $good = $r->{json}{nextCursor};
ok(defined $good, 'a nextCursor to tamper with');

$r = page('Users', $good, count => 5);
is($r->{status}, 200, 'the cursor works');

my $raw = decode_base64(do { (my $s = $good) =~ tr/-_/+\//; $s . '=' x ((4 - length($s) % 4) % 4) });
for my $pos (0, 1, 5, 12, 21, length($raw) - 33, length($raw) - 1) {
    my $b = $raw;
    substr($b, $pos, 1) = chr(ord(substr($b, $pos, 1)) ^ 1);
    (my $s = encode_base64($b, '')) =~ tr/+\//-_/;
    $s =~ s/=+$//;
    $r = page('Users', $s, count => 5);
    is_scim_error($r, 400, 'invalidCursor', "a cursor with byte $pos changed");
}
for my $bad ('x', 'not a cursor', '!!!!', 'A' x 5000, substr($good, 0, 20)) {
    $r = page('Users', $bad, count => 5);
    is_scim_error($r, 400, 'invalidCursor', 'a malformed cursor (' . length($bad) . ' bytes)');
}

# another query's cursor
$r = page('Groups', $good, count => 5);
is_scim_error($r, 400, 'invalidCursor', "a /Users cursor on /Groups");
$r = page('Users', $good, count => 5, filter => 'userName pr');
is_scim_error($r, 400, 'invalidCursor', 'a cursor of another filter');
$r = page('Users', $good, count => 5, sortBy => 'userName');
is_scim_error($r, 400, 'invalidCursor', 'a cursor of another sortBy');
$r = $t->get("Users?cursor=$good&startIndex=3");
is_scim_error($r, 400, 'invalidValue', 'cursor with startIndex');
$r = $t->get('Users?' . qs(filter => 'userName pr', cursor => '', startIndex => 1));
is_scim_error($r, 400, 'invalidValue', 'cursor= with startIndex and a filter');

# another tenant's (the same key signs both)
$t->post('/other/scim/v2/Users', { schemas => [URN_USER], userName => "o$_" }) for 1 .. 3;
$r = page('/other/scim/v2/Users', '', count => 5);
is($r->{json}{totalResults}, 3, 'the other tenant has 3 users');
is_scim_error(page('/other/scim/v2/Users', $good, count => 5), 400, 'invalidCursor',
              "a cursor of another tenant");

# the same query on another location of the tenant (the same key)
$r = page('/short/scim/v2/Users', $good, count => 5);
is($r->{status}, 200, 'the same query on another location of the tenant');

# expiry: scim_cursor_ttl 1s
$r = page('/short/scim/v2/Users', '', count => 5);
my $short = $r->{json}{nextCursor};
ok(defined $short, 'a cursor that lives 1 s');
sleep 2.5;
$r = page('/short/scim/v2/Users', $short, count => 5);
is_scim_error($r, 400, 'expiredCursor', 'the cursor after 2.5 s');
$r = page('/short/scim/v2/Users', $good, count => 5);
is($r->{status}, 200, 'a cursor of the long ttl still works there');

# ------------------------------------------------ member paging

# 5,000 users through the API (8 clients)
my $out = $t->parallel(8, sub {
    my $i = shift;
    my @ids;
    for my $k (0 .. 624) {
        my $rr = $t->post('Users', { schemas => [URN_USER], userName => "m-$i-$k\@example.com" });
        return "HTTP $rr->{status} $rr->{content}" unless $rr->{status} == 201;
        push @ids, $rr->{json}{id};
    }
    return \@ids;
}, timeout => 150);
my @mu = map { ref $_ ? @$_ : () } @$out;
is(scalar @mu, 5000, '5,000 users created') or diag explain [ grep { !ref $_ } @$out ];

my $big = new_group('Big');
my @st;
for (my $i = 0; $i < 5000; $i += 1000) {
    push @st, $t->patch("Groups/$big", { schemas => [URN_PATCH], Operations => [
        { op => 'add', path => 'members', value => [ map { { value => $_ } } @mu[$i .. $i + 999] ] } ] })->{status};
}
is_deeply(\@st, [ (204) x 5 ], '5,000 members added');
# a nested group among them: no User, so not listed
my $inner = new_group('Inner');
$t->patch("Groups/$big", { schemas => [URN_PATCH], Operations => [
    { op => 'add', path => 'members', value => [ { value => $inner } ] } ] });

my $mq = [filter => "groups.value eq \"$big\"", count => 100];
my $U = 'Users';
my @cmds;
my $mon = $t->redis_monitor(sub {
    ($ids, $err, $n, $first) = walk($U, $mq);
});
is_deeply($err, [], 'member paging of a group of 5,000');
is($first->{json}{totalResults}, 5001, '... totalResults: the group\'s members (the nested group too)');
is($n, 51, '... 51 pages of 100');
is_deeply([ sort @$ids ], [ grep { $_ ne $inner } @{ $t->redis_members($P, $big) } ],
          '... every user member once, as in Redis');
is_deeply([ dups(@$ids) ], [], '... none twice');
my @lex = grep { $_->[0] =~ /^zrangebylex$/i && ($_->[1] // '') eq "${P}members" } @$mon;
my @limits = grep { grep { /^limit$/i } @$_ } @lex;
is(scalar @limits, 51, '... one ZRANGEBYLEX ... LIMIT of the members a page');
is(scalar @lex, 51, '... and no other read of the member range');
is(scalar(grep { $_->[-1] eq '101' } @limits), 51, '... each of 101 entries (the page and one more)');
ok(!grep({ $_->[0] =~ /^zrange$|^zrevrangebylex$/i && ($_->[1] // '') eq "${P}members" } @$mon),
   '... no ZRANGE of it, no ZREVRANGEBYLEX');
my @hget = grep { $_->[0] =~ /^hget$/i && ($_->[1] // '') eq "${P}User:docs" } @$mon;
is(scalar @hget, 5001, '... each member\'s document read once (the nested group\'s tried once)');

# back through the members by previousCursor: ZREVRANGEBYLEX ... LIMIT
$mon = $t->redis_monitor(sub {
    walk_back('member paging', $U, [filter => "groups.value eq \"$big\"", count => 200]);
});
my @rev = grep { $_->[0] =~ /^zrevrangebylex$/i && ($_->[1] // '') eq "${P}members" } @$mon;
is(scalar @rev, 25, '... one ZREVRANGEBYLEX a page of the walk back (25 of 26 pages)');
is(scalar(grep { $_->[-1] eq '201' } @rev), 25, '... each with LIMIT of 201 entries');

# the rest of the filter still decides (the candidates are scanned)
($ids, $err, $n, $first, $names) = walk('Users', [filter => "groups.value eq \"$big\" and userName sw \"m-1-\"", count => 100]);
is_deeply($err, [], 'member paging with more in the filter');
is($n, 51, '... as many pages');
is(scalar(grep { /^m-1-/ } @$names), 625, '... the 625 members that match');
is(scalar @$names, 625, '... and no other');
is_deeply([ dups(@$ids) ], [], '... none twice');

# the groups of a member, by members.value
my @g3 = map { new_group("holder $_", $mu[0]) } 0 .. 4;
($ids, $err, $n) = walk('Groups', [filter => "members.value eq \"$mu[0]\"", count => 2]);
is_deeply($err, [], 'the groups of a member, paged');
is($n, 3, '... 3 pages of 2');
is_deeply([ sort @$ids ], [ sort(@g3, $big) ], '... every group once');
walk_back('the groups of a member', 'Groups', [filter => "members.value eq \"$mu[0]\"", count => 2]);
# an index's candidates, sorted: keyed on (sort value, id) as well; a
# group walked deleted between pages shifts nothing
my $gone_g;
($ids, $err, $n, $first, $names) = walk('Groups', [filter => "members.value eq \"$mu[0]\"", sortBy => 'displayName', count => 2], sub {
    my ($k) = @_;
    # "holder 0", on the first page after "Big"
    if ($k == 1) { $gone_g = $g3[0]; $t->del("Groups/$gone_g") }
});
is_deeply($err, [], 'the groups of a member, sorted, paged');
is_deeply($names, [ sort { lc $a cmp lc $b } @$names ], '... in the sorted order');
is_deeply([ sort @$ids ], [ sort(@g3, $big) ], '... every group once, though one walked was deleted');
@g3 = grep { $_ ne $gone_g } @g3;
walk_back('/Groups', 'Groups', [count => 7]);

# member paging while members leave and join
my %gone;
my @joined;
($ids, $err) = walk($U, $mq, sub {
    my ($k) = @_;
    my @rm = map { $mu[($k * 131 + $_ * 17) % 5000] } 0 .. 4;
    my $pr = $t->patch("Groups/$big", { schemas => [URN_PATCH], Operations => [
        { op => 'remove', path => 'members', value => [ map { { value => $_ } } @rm ] } ] });
    $gone{$_} = 1 for @rm;
    my $nu = new_user("join-$k\@example.com");
    $t->patch("Groups/$big", { schemas => [URN_PATCH], Operations => [
        { op => 'add', path => 'members', value => [ { value => $nu } ] } ] });
    push @joined, $nu;
});
is_deeply($err, [], 'member paging while members leave and join');
my %ms = map { $_ => 1 } @$ids;
is(scalar(grep { !$gone{$_} && !$ms{$_} } @mu), 0, '... every member of the whole walk seen');
is_deeply([ dups(@$ids) ], [], '... none twice');

# a member cursor of one group is not another group's
$r = page('Users', '', filter => "groups.value eq \"$big\"", count => 10);
my $mc = $r->{json}{nextCursor};
$r = page('Users', $mc, filter => "groups.value eq \"$inner\"", count => 10);
is_scim_error($r, 400, 'invalidCursor', "a member cursor on another group");
$r = page('Users', $mc, filter => "groups.value eq \"$big\"", count => 10);
is($r->{status}, 200, '... and works on its own');
my @all = @{ $t->redis_members($P, $big) };
my $eleventh = $all[10] eq $inner ? $all[11] : $all[10];
is($r->{json}{Resources}[0]{id} // '', $eleventh, '... from the 11th member in id order');

# ------------------------------------------------------ the keys

$r = page('/keyed/scim/v2/Users', '', count => 7);
my $keyed = $r->{json}{nextCursor};
ok(defined $keyed, 'a cursor of scim_cursor_key');
is(page('/keyed/scim/v2/Users', $keyed, count => 7)->{status}, 200, '... works where that key is');
is_scim_error(page('Users', $keyed, count => 7), 400, 'invalidCursor',
              '... is invalidCursor where another key signs');
is_scim_error(page('/keyed/scim/v2/Users', $good, count => 5), 400, 'invalidCursor',
              'a cursor of the random key is invalidCursor there');

# a reload keeps scim_cursor_key; the random key is drawn again
$r = page('Users', '', count => 7);
my $random = $r->{json}{nextCursor};
is(page('Users', $random, count => 7)->{status}, 200, 'a cursor of the random key, before a reload');
ok($t->reload(wait_old => 1), 'reload');
$r = page('/keyed/scim/v2/Users', $keyed, count => 7);
is($r->{status}, 200, 'a scim_cursor_key cursor survives the reload');
is_scim_error(page('Users', $random, count => 7), 400, 'invalidCursor',
              'a random-key cursor does not');

# a short key fails nginx -t, naming the directive
$t->write_file('short.key', 'ab' x 16);
my ($ok, $ntout) = $t->nginx_t($t->standard_conf(extra => "        scim_cursor_key %%DIR%%/short.key;\n"));
ok(!$ok, 'nginx -t: a scim_cursor_key of 16 bytes fails');
like($ntout, qr/scim_cursor_key "[^"]*short\.key": the key is 16 bytes, needs at least 32/,
     '... naming the directive, the file and the size');
($ok, $ntout) = $t->nginx_t($t->standard_conf(extra => "        scim_cursor_ttl 0;\n"));
ok(!$ok, "nginx -t: scim_cursor_ttl 0 fails") or diag($ntout);

$t->finish;
