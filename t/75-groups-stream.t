#!/usr/bin/perl

# A GET of a large group streams its members (issue 11): a group of
# 20,000 members is read from Redis a slice (scim_members_slice, 1,000)
# at a time and sent as it is read, chunked, with the same bytes as the
# answer built whole (a location with scim_members_slice 0), the same
# ETag, for every projection; small groups keep Content-Length.  A slow
# client holds the reading back (no slice is read before the previous
# one was taken: Redis's count of script calls says how many were read);
# a client that leaves mid-answer costs nothing; Redis stopping
# mid-answer cuts it (no last chunk, the error logged); members added and
# removed during the answer leave it valid JSON, no member twice.
#
# The users and the memberships are written straight into Redis by a
# Lua script, in the stored form a POST produces, so that seeding takes
# a second.  SCIM_STREAM_MEMBERS overrides the number (a multiple of
# 1,000 keeps the exact count of slices below).

use strict;
use warnings;

use lib 't/lib';
use Test::More;
use ScimTest;
use Time::HiRes qw(time sleep);

my $N = $ENV{SCIM_STREAM_MEMBERS} // 20000;
my $T = 'stream';
my $P = "scim:{$T}:";

my $t = ScimTest->new(workers => 1, ports => 1, timeout => 600,
    no_cluster => 'counts the script calls of the one redis-server');

my $loc = sub {
    my ($path, $slice) = @_;
    return <<"EOF";
    location $path {
        scim;
        scim_redis %%REDIS%%;
        scim_tenant $T;
        scim_bearer_token_file %%TOKEN_FILE%%;
        scim_members_slice $slice;
    }
EOF
};

# a small send buffer: what the kernel holds for a slow client is small
# next to a slice, so that the count of slices read shows the wait
$t->write_config(<<"EOF");
server {
    listen 127.0.0.1:%%PORT%% sndbuf=16k;
    server_name localhost;
    send_timeout 30s;
@{[ $loc->('/scim/v2/', 1000) ]}
@{[ $loc->('/whole/scim/v2/', 0) ]}
@{[ $loc->('/small/scim/v2/', 7) ]}
}
EOF
$t->start_nginx_ok;

{
    my ($ok, $out) = $t->nginx_t("server {\n listen 127.0.0.1:%%PORT%%;\n"
                                 . $loc->("/scim/v2/", 0) . "}\n");
    ok($ok, 'scim_members_slice 0: accepted') or diag $out;
}
for my $bad ('1001', '-1', 'many') {
    my ($ok, $out) = $t->nginx_t("server {\n listen 127.0.0.1:%%PORT%%;\n"
                                 . $loc->("/scim/v2/", $bad) . "}\n");
    ok(!$ok, "scim_members_slice $bad: refused") or diag $out;
    like($out, qr/scim_members_slice/, '... naming the directive');
}

my ($worker) = $t->worker_pids;

sub rss {
    open(my $fh, '<', "/proc/$_[0]/status") or return 0;
    while (<$fh>) { return $1 if /^VmRSS:\s+(\d+)\s+kB/ }
    return 0;
}

# the script calls Redis ran so far
sub script_calls {
    my $info = $t->redis_cmd('INFO', 'commandstats') // '';
    my $n = 0;
    $n += $1 while $info =~ /^cmdstat_(?:eval(?:sha)?|fcall):calls=(\d+)/mg;
    return $n;
}

# ------------------------------------------------------------- seeding

my $tpl = $t->post('Users', { schemas => [URN_USER], userName => 'qquserqq',
                              displayName => 'Member qqnumqq' });
is($tpl->{status}, 201, 'template user') or BAIL_OUT($tpl->{content});
my $tid = $tpl->{json}{id};
my $tdoc = $t->redis_cmd('HGET', "${P}User:docs", $tid);
is($t->delete("Users/$tid", headers => { 'If-Match' => '*' })->{status}, 204,
   '... deleted, its stored form kept');

sub uid { sprintf('%08x-0000-4000-8000-%012x', $_[1] // 1, $_[0]) }

my $SEED = <<'LUA';
local p, tid, tdoc, from, to, gid, tag = ARGV[1], ARGV[2], ARGV[3],
  tonumber(ARGV[4]), tonumber(ARGV[5]), ARGV[6], tonumber(ARGV[7])
local pid = string.gsub(tid, '%-', '%%-')
for i = from, to do
  local id = string.format('%08x-0000-4000-8000-%012x', tag, i)
  local u = string.format('su%d-%07d', tag, i)
  local doc = string.gsub(tdoc, pid, id)
  doc = string.gsub(doc, 'qquserqq', u)
  doc = string.gsub(doc, 'qqnumqq', tostring(i))
  local seq = redis.call('INCR', p .. 'seq')
  doc = string.gsub(doc, 'W/\\"%d+\\""}}$', 'W/\\"' .. seq .. '\\""}}')
  redis.call('HSET', p .. 'User:docs', id, doc)
  redis.call('ZADD', p .. 'User:ids', seq, id)
  redis.call('HSET', p .. 'User:idx:userName', u, id)
  redis.call('HSET', p .. 'User:display', id, 'Member ' .. i)
  if gid ~= '' then
    redis.call('ZADD', p .. 'members', 0, gid .. '\0' .. id)
    redis.call('ZADD', p .. 'memberof', 0, id .. '\0' .. gid)
  end
end
return to - from + 1
LUA

sub seed {
    my ($from, $to, $gid, $tag) = @_;
    my ($n, $e) = $t->redis_cmd({ timeout => 120 }, 'EVAL', $SEED, 0, $P,
                                $tid, $tdoc, $from, $to, $gid // '', $tag);
    diag("seeding: $e") if $e;
    return $n // 0;
}

sub new_group {
    my ($name, @members) = @_;
    my $r = $t->post('Groups', { schemas => [URN_GROUP], displayName => $name,
                                 members => [ map { { value => $_ } } @members ] });
    is($r->{status}, 201, "group $name") or diag $r->{content};
    return $r->{json}{id} // 'none';
}

my $t0 = time;
my $big = new_group('Big');
is(seed(1, $N, $big, 1), $N, "$N users seeded as members of one group");
# two groups among the members, with names JSON must escape
my @nested = (new_group("Nested \"one\"\x{e9}"), new_group('Nested two'));
for my $g (@nested) {
    my $r = $t->request('PATCH', "Groups/$big", body => patch_body(
        { op => 'add', path => 'members', value => [{ value => $g }] }));
    ok($r->{status} == 200 || $r->{status} == 204, "group $g added")
        or diag $r->{content};
}
my $TOTAL = $N + 2;
is($t->redis_cmd('ZLEXCOUNT', "${P}members", "[$big\0", "($big\1"), $TOTAL,
   "$TOTAL members in Redis");
note(sprintf('seeded in %.1f s', time - $t0));

# ------------------------------------------- the same bytes as whole

sub get_raw {
    my ($path, %o) = @_;
    return $t->request($o{method} // 'GET', $path, headers => $o{headers} // {},
                       timeout => 120);
}

# the answer of the location that reads whole, its base URL as ours
sub whole {
    my ($path, $loc) = @_;
    my $w = get_raw("/$loc$path");
    $w->{raw_len} = length $w->{content};
    $w->{content} =~ s{/$loc/scim/v2/}{/scim/v2/}g;
    return $w;
}

my $calls_of_last;

sub same_as_whole {
    my ($what, $q, %o) = @_;
    my $c0 = script_calls();
    my $s = get_raw("/scim/v2/Groups/$big$q");
    $calls_of_last = script_calls() - $c0;
    my $w = whole("/scim/v2/Groups/$big$q", 'whole');
    is($s->{status}, 200, "$what: 200") or diag $s->{error} // $s->{content};
    is($w->{status}, 200, "$what: 200 built whole");
    ok($s->{content} eq $w->{content}, "$what: the same bytes as built whole ("
       . length($s->{content}) . ')')
        or diag(substr($s->{content}, 0, 300) . "\n---\n" . substr($w->{content}, 0, 300));
    is($s->{headers}{etag}, $w->{headers}{etag}, "$what: the same ETag");
    if ($o{streamed}) {
        like($s->{headers}{'transfer-encoding'} // '', qr/chunked/i, "$what: chunked");
        ok(!defined $s->{headers}{'content-length'}, "$what: no Content-Length");
    }
    return $s;
}

my $s = same_as_whole('GET of the group', '', streamed => 1);
is($calls_of_last, int($TOTAL / 1000) + 1,
   'read in ' . (int($TOTAL / 1000) + 1) . ' slices of 1,000, one script call each');
my $doc = $s->{json};
ok($doc, 'valid JSON');
is(scalar @{ $doc->{members} // [] }, $TOTAL, "$TOTAL members");
my %seen;
$seen{$_->{value}}++ for @{ $doc->{members} // [] };
is(scalar keys %seen, $TOTAL, '... each once');
is_deeply([ map { $_->{value} } @{ $doc->{members} } ],
          $t->redis_members($P, $big), '... in the order of their ids, '
          . 'the members Redis holds');
is($s->{headers}{etag}, $doc->{meta}{version}, 'ETag: the version');
my ($g1) = grep { $_->{value} eq $nested[0] } @{ $doc->{members} };
is_deeply($g1, { value => $nested[0], type => 'Group',
                 display => "Nested \"one\"\x{e9}",
                 '$ref' => "http://127.0.0.1:" . $t->port . "/scim/v2/Groups/$nested[0]" },
          'a group member as built whole')
    or diag explain $g1;
is($doc->{members}[5]{'$ref'}, 'http://127.0.0.1:' . $t->port
   . "/scim/v2/Users/$doc->{members}[5]{value}", "a user member's \$ref");

same_as_whole('attributes=members', '?attributes=members', streamed => 1);
same_as_whole('attributes=members.value', '?attributes=members.value',
              streamed => 1);
same_as_whole('attributes=displayName,members.display',
              '?attributes=displayName,members.display', streamed => 1);
same_as_whole('excludedAttributes=members.display',
              '?excludedAttributes=members.display', streamed => 1);
same_as_whole('excludedAttributes=members', '?excludedAttributes=members');
same_as_whole('attributes=displayName', '?attributes=displayName');
$s = same_as_whole('a value filter on the last slices',
    '?attributes=' . uri_escape('members[type eq "Group"]'), streamed => 1);
is(scalar @{ $s->{json}{members} // [] }, 2, '... the two groups');
$s = same_as_whole('a value filter no member matches',
    '?attributes=' . uri_escape('displayName,members[type eq "Nobody"]'),
    streamed => 1);
ok($s->{json} && !exists $s->{json}{members}, '... no "members"');

# HTTP/1.0: no chunks, the end of the connection ends the answer
{
    my $req = $t->build_request('GET', "/scim/v2/Groups/$big");
    $req =~ s{HTTP/1\.1}{HTTP/1.0};
    my $sock = $t->connect_nginx;
    $t->send_bytes($sock, $req);
    my $raw = '';
    my $sel = IO::Select->new($sock);
    my $end = time + 120;
    while (time < $end) {
        next unless $sel->can_read(0.5);
        my $n = sysread($sock, $raw, 65536, length $raw);
        last unless $n;
    }
    my ($head, $body) = split /\r\n\r\n/, $raw, 2;
    like($head // '', qr{^HTTP/1\.[01] 200}, 'HTTP/1.0: 200');
    unlike($head // '', qr/chunked/i, '... not chunked');
    ok(defined $body && $body eq whole("/scim/v2/Groups/$big", 'whole')->{content},
       '... the same bytes as built whole');
}

my $h = get_raw("/scim/v2/Groups/$big", method => 'HEAD');
is($h->{status}, 200, 'HEAD: 200');
is($h->{headers}{etag}, $doc->{meta}{version}, '... with the ETag');

$h = get_raw("/scim/v2/Groups/$big",
             headers => { 'If-None-Match' => $doc->{meta}{version} });
is($h->{status}, 304, 'If-None-Match with the version: 304');
is($h->{content}, '', '... no body');

is_scim_error(get_raw('/scim/v2/Groups/' . uid(999, 9)), 404, undef,
              'an unknown group: 404');

# small groups, slices of 7: one read and Content-Length up to 7
# members, streamed from 8 on (and at multiples of 7)
for my $n (0, 1, 6, 7, 8, 13, 14, 15, 29) {
    my $g = new_group("Small $n");
    is(seed(1, $n, $g, 100 + $n), $n, "$n members") if $n;
    my $s = whole("/scim/v2/Groups/$g", 'small');
    my $w = whole("/scim/v2/Groups/$g", 'whole');
    is($s->{status}, 200, "$n members: 200");
    ok($s->{content} eq $w->{content}, "$n members: the same bytes as built whole")
        or diag("$s->{content}\n---\n$w->{content}");
    is(scalar @{ $s->{json}{members} // [] }, $n, "$n members: all of them");
    if ($n <= 7) {
        is($s->{headers}{'content-length'}, $s->{raw_len},
           "$n members: one read, Content-Length");
    } else {
        like($s->{headers}{'transfer-encoding'} // '', qr/chunked/i,
             "$n members: streamed");
    }
}

# ----------------------------------------------------- a slow client

sub slow_start {
    my (%o) = @_;
    my $sock = $t->connect_nginx(rcvbuf => 4096);
    ok($sock, 'a client with a small receive buffer connects') or return;
    $t->send_bytes($sock, $t->build_request('GET', "/scim/v2/Groups/$big",
                                            close => 1));
    return $sock;
}

# reads up to $max bytes, what is there within $wait seconds
sub take {
    my ($sock, $max, $wait) = @_;
    my $buf = '';
    my $sel = IO::Select->new($sock);
    my $end = time + $wait;
    while (length $buf < $max && time < $end) {
        next unless $sel->can_read(0.2);
        my $n = sysread($sock, $buf, $max - length $buf, length $buf);
        last unless $n;
    }
    return $buf;
}

sub dechunk {
    my ($raw) = @_;
    my ($head, $rest) = split /\r\n\r\n/, $raw, 2;
    my $body = '';
    while (defined $rest && $rest =~ s/^([0-9a-fA-F]+)\r\n//) {
        my $n = hex $1;
        last if $n == 0;
        $body .= substr($rest, 0, $n, '');
        $rest =~ s/^\r\n//;
    }
    return ($head, $body);
}

{
    my $rss0 = rss($worker);
    my $calls = script_calls();
    my $sock = slow_start();
    my $raw = take($sock, 8192, 10);
    ok(length $raw >= 4096, 'the slow client has the answer\'s start');
    sleep 1.5;
    my $while = script_calls() - $calls;
    my $rss1 = rss($worker);
    ok($while <= 4, "while it waits, at most 4 slices were read ($while of "
       . (int($TOTAL / 1000) + 1) . ')');
    # then it reads on, slowly at first
    for (1 .. 5) { $raw .= take($sock, 4096, 5); sleep 0.2 }
    ok(script_calls() - $calls <= 5,
       '... still a few after it took a few KB more ('
       . (script_calls() - $calls) . ')');
    $raw .= take($sock, 100 * 1024 * 1024, 120);
    is(script_calls() - $calls, int($TOTAL / 1000) + 1, '... all once it read on');
    my ($head, $body) = dechunk($raw);
    like($head, qr{^HTTP/1\.1 200}, 'the slow client: 200');
    ok($body eq whole("/scim/v2/Groups/$big", 'whole')->{content},
       '... the same bytes as built whole');
    ok($rss1 - $rss0 < 16 * 1024, sprintf('... the worker grew by %.1f MB meanwhile',
                                          ($rss1 - $rss0) / 1024));
}

# ---------------------------------------------- a client that leaves

{
    my $mark = $t->log_mark;
    for my $when (1 .. 3) {
        my $sock = slow_start();
        take($sock, 8192 * $when, 10);
        close($sock);
    }
    sleep 1;
    my $r = get_raw("/scim/v2/Groups/$nested[1]");
    is($r->{status}, 200, 'clients that left mid-answer: the worker answers');
    is_deeply([ $t->worker_pids ], [ $worker ], '... the same worker');
    $t->no_alerts_since($mark, '... no alert');
}

# ------------------------------------- Redis stops answering meanwhile

{
    my $mark = $t->log_mark;
    my $sock = slow_start();
    my $raw = take($sock, 8192, 10);
    $t->redis_signal('STOP');
    # the next slice times out (scim_redis_timeout, 2 s): the answer is cut
    $raw .= take($sock, 100 * 1024 * 1024, 60);
    $t->redis_signal('CONT');
    my ($head, $body) = dechunk($raw);
    like($head, qr{^HTTP/1\.1 200}, 'Redis stopped mid-answer: it had begun, 200');
    unlike($raw, qr/\r\n0\r\n\r\n\z/, '... the answer is cut, no last chunk');
    ok(length $body > 4096 && !defined json_decode($body),
       '... what came is the start of the JSON, not all of it');
    like($t->log_since($mark), qr/the store failed while a group's members are sent/,
         '... the error is logged');
    sleep 0.5;
    is(get_raw("/scim/v2/Groups/$nested[1]")->{status}, 200,
       'Redis back: the worker answers');
    $t->no_alerts_since($mark, '... no alert');
}

# ---------------------------------------- members change meanwhile

{
    my $before = $t->redis_members($P, $big);
    my $sock = slow_start();
    my $raw = take($sock, 16384, 10);
    my ($head0) = split /\r\n\r\n/, $raw, 2;
    # 300 new members, ids before and after those of the first slices,
    # and 300 of the others out
    is(seed(1, 300, '', 2), 300, '300 more users');
    my @add = ((map { uid($_, 2) } 1 .. 300));
    my @rem = @$before[ map { $_ * 50 } 1 .. 300 ];
    for my $op ([ 'add', [ @add ] ], [ 'remove', [ @rem ] ]) {
        my ($kind, $ids) = @$op;
        my $r = $t->request('PATCH', "Groups/$big", body => patch_body(
            { op => $kind, path => 'members',
              value => [ map { { value => $_ } } @$ids ] }));
        ok($r->{status} == 200 || $r->{status} == 204,
           "$kind " . scalar(@$ids) . ' members while the answer is read')
            or diag $r->{content};
    }
    $raw .= take($sock, 100 * 1024 * 1024, 120);
    my ($head, $body) = dechunk($raw);
    my $j = json_decode($body);
    ok($j, 'changed during the answer: valid JSON');
    my @v = map { $_->{value} } @{ $j->{members} // [] };
    my %c;
    $c{$_}++ for @v;
    is(scalar(grep { $c{$_} > 1 } keys %c), 0, '... no member twice');
    my %known = map { $_ => 1 } @$before, @add;
    is(scalar(grep { !$known{$_} } @v), 0, '... only members that were');
    my %gone = map { $_ => 1 } @rem;
    my @kept = grep { !$gone{$_} } @$before;
    is(scalar(grep { !$c{$_} } @kept), 0, '... every member that stayed');
    my ($etag) = $head =~ /^ETag:\s*(\S+)\r?$/mi;
    is($etag, $j->{meta}{version}, '... the ETag is the version shown');
    is(get_raw("/scim/v2/Groups/$big")->{headers}{etag} eq $etag ? 1 : 0, 0,
       '... the version read first (it moved since)');
}

$t->finish;
