#!/usr/bin/perl

# A bounded, deterministic black-box fuzz of the HTTP surface: thousands
# of mutated POST/PUT/PATCH/Bulk/.search bodies, filters and query
# parameters, paths and headers, built from the fuzz corpus
# (t/fuzz-corpus) by a fixed-seed generator, so a failure reproduces.
#
# For every answer: a real HTTP answer (no reset, no timeout), never a
# 500, every error a SCIM error object, every body SCIM JSON, never HTML.
# At the end: the same worker processes run (none exited), error.log is
# clean (no alert/crit, no sanitizer report: ScimTest::finish) and the
# server still serves.
#
# SCIM_FUZZ_N sets the number of requests (default 3000), SCIM_FUZZ_SEED
# the seed (default 7643).

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use ScimTest;

my $N = $ENV{SCIM_FUZZ_N} // 3000;
my $SEED = $ENV{SCIM_FUZZ_SEED} // 7643;

my $t = ScimTest->new(workers => 2);
$t->write_config($t->standard_conf(extra => <<'EOF'));
        client_max_body_size 256k;
        scim_max_results 50;
EOF
$t->start_nginx_ok;
my @workers = sort $t->worker_pids;

# ------------------------------------------- a deterministic generator

my $state = $SEED;
sub rnd {                                  # 0 .. $n - 1
    my ($n) = @_;
    # xorshift32: the same sequence on every perl
    $state ^= ($state << 13) & 0xffffffff;
    $state ^= $state >> 17;
    $state ^= ($state << 5) & 0xffffffff;
    $state &= 0xffffffff;
    return $n ? $state % $n : 0;
}
sub pick { return $_[rnd(scalar @_)] }

# the files of a corpus; $named: only the hand-written seeds (the others
# are named by libFuzzer for their hash)
sub corpus {
    my ($dir, $named) = @_;
    my @f;
    for my $f (sort glob("$FindBin::Bin/fuzz-corpus/$dir/*")) {
        next if $named && $f =~ m{/[0-9a-f]{40}$};
        open my $fh, '<:raw', $f or next;
        local $/;
        my $c = <$fh>;
        push @f, $c if defined $c && length $c && length $c < 20000;
    }
    return @f;
}

my @FILTERS = corpus('filter');
my @PATCHES = corpus('patch');
my @RESOURCES = corpus('resource');
my @SEEDS = corpus('resource', 1);
plan skip_all => 'no fuzz corpus'
    unless @FILTERS && @PATCHES && @RESOURCES && @SEEDS;

# odd pieces a mutation puts in
my @ODD = ('', '"', '\\', '\\u0000', '\\ud800', "\x00", "\xff\xfe",
    "\xc3\x28", '{', '}', '[', ']', ',', ':', 'null', 'true', '-1',
    '1e999', '99999999999999999999', '[]', '{}', '""', '%', '%00',
    '%zz', ' or ', ' and ', ' eq ', ' pr', '(', ')', '.', 'urn:',
    'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:',
    'members[value eq "x"]', 'emails[type eq "work"]', "\t", "\r\n",
    'é', "\xe2\x80\x8b", '$ref', 'schemas', 'Operations', 'op', 'path',
    'value', 'bulkId:x', 'a' x 300, '-' x 1100, 'Z' x 5000);

sub long_id { return pick('a', 'x-1', 'A' x 256, 'b' x 257, 'c' x 1100,
                          '9' x 5000, 'ab-' x 700) }

sub mutate_bytes {
    my ($s) = @_;
    my $n = 1 + rnd(4);
    for (1 .. $n) {
        my $len = length $s;
        my $pos = $len ? rnd($len + 1) : 0;
        my $k = rnd(6);
        if ($k == 0) {                                  # delete a run
            substr($s, $pos, 1 + rnd(8), '') if $pos < $len;
        } elsif ($k == 1) {                             # insert something odd
            substr($s, $pos, 0, pick(@ODD));
        } elsif ($k == 2) {                             # flip a byte
            substr($s, $pos, 1, chr(rnd(256))) if $pos < $len;
        } elsif ($k == 3) {                             # truncate
            $s = substr($s, 0, $pos);
        } elsif ($k == 4) {                             # duplicate a run
            substr($s, $pos, 0, substr($s, rnd($len + 1), 1 + rnd(40)))
                if $len;
        } else {                                        # long value
            substr($s, $pos, 0, long_id());
        }
    }
    return $s;
}

# structural mutations of a decoded JSON value
sub odd_value {
    return pick(undef, jtrue, jfalse, 0, -1, 1e300, 3.5, '', long_id(),
                [], {}, [long_id()], { value => long_id() },
                { value => { value => 'x' } }, [[[[[1]]]]], "x\x{2028}y",
                "\x{10ffff}", 'W/"1"', 'bulkId:nope',
                { value => long_id(), '$ref' => long_id() },
                { manager => long_id() }, { manager => { value => long_id() } },
                { members => [{ value => long_id() }] });
}

sub mutate_json {
    my ($v, $depth) = @_;
    $depth //= 0;
    return odd_value() if $depth > 6 || !rnd(8);
    if (ref $v eq 'HASH') {
        my %h = %$v;
        my @k = sort keys %h;
        for my $k (@k) {
            my $r = rnd(10);
            if ($r == 0) { delete $h{$k} }
            elsif ($r == 1) { $h{$k} = odd_value() }
            elsif ($r == 2) { $h{uc $k} = delete $h{$k} }
            elsif ($r < 6) { $h{$k} = mutate_json($h{$k}, $depth + 1) }
        }
        $h{pick('manager', 'members', 'groups', 'id', 'meta', 'password',
                'emails', 'active', 'schemas', 'Operations', 'value',
                'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User',
                'x' x (1 + rnd(300)))} = odd_value() unless rnd(4);
        return \%h;
    }
    if (ref $v eq 'ARRAY') {
        my @a = map { rnd(3) ? mutate_json($_, $depth + 1) : $_ } @$v;
        push @a, odd_value() unless rnd(4);
        push @a, @a if @a && !rnd(10);
        shift @a if @a && !rnd(6);
        return \@a;
    }
    return rnd(3) ? $v : odd_value();
}

# one point mutation: a value somewhere inside replaced, or a member added
# (the rest of the document stays valid, so the change reaches past
# validation into storage and presentation)
sub mutate_one {
    my ($v) = @_;
    if (ref $v eq 'HASH' && %$v) {
        my @k = sort keys %$v;
        my $k = pick(@k);
        my %h = %$v;
        if (!rnd(5)) {
            $h{pick('manager', 'members', 'groups', 'id', 'password',
                    'externalId', 'userName', 'displayName')} = odd_value();
        } elsif (rnd(3) && ref $h{$k}) {
            $h{$k} = mutate_one($h{$k});
        } else {
            $h{$k} = odd_value();
        }
        return \%h;
    }
    if (ref $v eq 'ARRAY' && @$v) {
        my @a = @$v;
        my $i = rnd(scalar @a);
        $a[$i] = (rnd(3) && ref $a[$i]) ? mutate_one($a[$i]) : odd_value();
        return \@a;
    }
    return odd_value();
}

sub mutated_doc {
    my ($text) = @_;
    my $k = rnd(4);
    if ($k == 0) {
        return mutate_bytes($text);
    }
    my $v = json_decode($text);
    return mutate_bytes($text) unless ref $v;
    if ($k == 1) {
        return json_encode(mutate_json($v));
    }
    $v = mutate_one($v);
    $v = mutate_one($v) unless rnd(3);
    my $s = json_encode($v);
    return $k == 2 ? $s : mutate_bytes($s);
}

sub qv { return uri_escape($_[0]) }

# a corpus resource of the type, mostly, with a name no other has (or a
# create would only meet 409)
my $SEQ = 0;
sub resource {
    my ($type) = @_;
    my $text = rnd(5) ? pick(@SEEDS) : pick(@RESOURCES);
    for (1 .. 4) {
        last if !rnd(8)
             || ($text =~ /core:2\.0:Group"/ ? 'Groups' : 'Users') eq $type;
        $text = pick(@SEEDS);
    }
    my $v = json_decode($text);
    return $text unless ref $v eq 'HASH' && rnd(8);
    $SEQ++;
    $v->{userName} = "fz-$SEQ-$v->{userName}" if defined $v->{userName};
    $v->{displayName} = "fz-$SEQ-$v->{displayName}"
        if defined $v->{displayName} && $type eq 'Groups';
    delete $v->{externalId} if rnd(2);
    return json_encode($v);
}

# --------------------------------------------------------- targets

my (@users, @groups);
for my $i (1 .. 4) {
    my $r = $t->create_user(unique_name("fz$i"));
    push @users, $r->{json}{id} if $r->{status} == 201;
    $r = $t->post('Groups', { schemas => [URN_GROUP],
                              displayName => unique_name("fzg$i") });
    push @groups, $r->{json}{id} if $r->{status} == 201;
}
is(scalar @users, 4, 'fuzz targets: users created');
is(scalar @groups, 4, 'fuzz targets: groups created');

sub target {
    my ($type) = @_;
    my @ids = $type eq 'Users' ? @users : @groups;
    return rnd(5) ? pick(@ids) : pick(long_id(), mutate_bytes(pick(@ids)),
                                      '.search', 'x/y', '%2e%2e', '');
}

sub query {
    my @q;
    push @q, 'filter=' . qv(rnd(3) ? mutate_bytes(pick(@FILTERS))
                                   : pick(@FILTERS)) if rnd(2);
    push @q, 'attributes=' . qv(pick('userName', 'emails[type eq "work"]',
        'members', 'name.givenName,meta', mutate_bytes('userName,emails'),
        long_id(), '')) unless rnd(4);
    push @q, 'excludedAttributes=' . qv(pick('members', 'groups', '',
        mutate_bytes('members'), long_id())) unless rnd(5);
    push @q, 'sortBy=' . qv(pick('userName', 'displayName', 'meta.created',
        'emails.value', 'name', mutate_bytes('title'), long_id(), ''))
        unless rnd(4);
    push @q, 'sortOrder=' . pick('ascending', 'descending', 'x', '')
        unless rnd(5);
    push @q, 'startIndex=' . pick(1, 0, -1, 2, '99999999999999999999',
                                  'x', '', '1e3') unless rnd(4);
    push @q, 'count=' . pick(0, 1, 5, -3, 1000000, 'abc', '',
                             '99999999999999999999') unless rnd(4);
    push @q, mutate_bytes('filter=userName%20eq%20%22x%22') unless rnd(12);
    return @q ? '?' . join('&', @q) : '';
}

# header values nginx parses before it picks a location: no control bytes
# (nginx refuses those with its own page, as for a bad request line)
sub hv {
    my ($v) = @_;
    $v =~ s/[\x00-\x1f\x7f]//g;
    return substr($v, 0, 4000);
}

sub headers {
    my %h;
    $h{'If-Match'} = pick('W/"1"', '*', 'W/"2", W/"3"',
        join(', ', map { "W/\"$_\"" } 1 .. 20), mutate_bytes('W/"1"'),
        '"' . long_id() . '"') unless rnd(5);
    $h{'If-None-Match'} = pick('W/"1"', '*', mutate_bytes('W/"1"'))
        unless rnd(8);
    $h{'Content-Type'} = pick('application/json', 'text/plain',
        'application/scim+json; charset=latin1', '', mutate_bytes('application/scim+json'))
        unless rnd(8);
    $h{'Accept'} = pick('text/html', '*/*', 'application/json', '')
        unless rnd(8);
    $h{'Authorization'} = pick('Bearer', 'Bearer ' . long_id(), 'Basic eDp5',
        'Bearer ' . mutate_bytes($t->token), '') unless rnd(15);
    $h{$_} = hv($h{$_}) for keys %h;
    return \%h;
}

# one request: [method, path, body, headers]
sub make_request {
    my $k = rnd(100);
    my $type = rnd(2) ? 'Users' : 'Groups';
    if ($k < 22) {
        return ['POST', $type, mutated_doc(resource($type)), headers()];
    } elsif ($k < 34) {
        return ['PUT', "$type/" . target($type),
                mutated_doc(resource($type)), headers()];
    } elsif ($k < 56) {
        return ['PATCH', "$type/" . target($type),
                mutated_doc(pick(@PATCHES)), headers()];
    } elsif ($k < 64) {
        my @ops = map {
            { method => pick('POST', 'PUT', 'PATCH', 'DELETE', 'GET', 'x'),
              path => pick('/Users', '/Groups', "/Users/$users[0]",
                           "/Groups/$groups[0]", '/Users/bulkId:a',
                           long_id(), ''),
              bulkId => pick('a', 'b', long_id(), undef),
              data => json_decode(pick(@RESOURCES, @PATCHES)) }
        } 1 .. 1 + rnd(4);
        my $bulk = json_encode({ schemas =>
            ['urn:ietf:params:scim:api:messages:2.0:BulkRequest'],
            failOnErrors => pick(undef, 1, 0, 'x'), Operations => \@ops });
        return ['POST', 'Bulk', rnd(2) ? $bulk : mutated_doc($bulk),
                headers()];
    } elsif ($k < 74) {
        my $search = json_encode({ schemas =>
            ['urn:ietf:params:scim:api:messages:2.0:SearchRequest'],
            filter => pick(@FILTERS), startIndex => pick(1, 0, -2, 'x'),
            count => pick(1, 10, 0, 99999), sortBy => pick('userName',
            'displayName', long_id()), attributes => pick(['userName'],
            'userName', [long_id()], undef) });
        return ['POST', pick('Users/.search', 'Groups/.search', '.search'),
                rnd(2) ? $search : mutated_doc($search), headers()];
    } elsif ($k < 92) {
        return ['GET', $type . query(), undef, headers()];
    } elsif ($k < 96) {
        return ['GET', "$type/" . target($type) . query(), undef, headers()];
    } elsif ($k < 98) {
        return [pick('GET', 'DELETE', 'OPTIONS', 'PROPFIND', 'PUT'),
                pick('Schemas', 'Schemas/' . long_id(), 'ResourceTypes/x',
                     'ServiceProviderConfig', 'Me', '.search',
                     mutate_bytes('Users/abc'), 'Users/' . long_id(),
                     'Nope', 'Users/a/b', 'Users%0a', 'Users/%ff%fe'),
                undef, headers()];
    }
    # DELETE a made-up id (the targets stay)
    return ['DELETE', "$type/" . pick(long_id(), mutate_bytes('abc')), undef,
            headers()];
}

# ---------------------------------------------------------------- run

my (%bad, $n500, %statuses);
sub bad {
    my ($what, $req, $res) = @_;
    push @{$bad{$what}}, sprintf("%s %s -> %s %s | headers: %s | body: %.300s | answer: %.300s",
        $req->[0], $ENV{SCIM_FUZZ_VERBOSE} ? $req->[1] : substr($req->[1], 0, 200), $res->{status},
        join('; ', map { "$_: " . substr($req->[3]{$_}, 0, 60) . '...' . length($req->[3]{$_}) } sort keys %{$req->[3]}),
        $res->{error} // '', $req->[2] // '', $res->{content} // '');
}

my $ok_token = $t->token;
for my $i (1 .. $N) {
    my $req = make_request();
    my ($method, $path, $body, $h) = @$req;
    my %o = (headers => $h);
    if (defined $body) {
        $o{body} = $body;
        $o{ctype} = 'application/scim+json';
    }
    # the request line stays within nginx's large_client_header_buffers
    # and free of bytes nginx refuses before it picks a location: those
    # are answered by nginx's server, not by a scim location
    $path =~ s/%(?![0-9A-Fa-f]{2})/%25/g;
    $path =~ s/([\x00-\x20\x7f-\xff#])/sprintf('%%%02X', ord $1)/ge;
    $path =~ s/%00/%2500/g;
    $path = substr($path, 0, 3000);
    $path =~ s/%[0-9A-Fa-f]?$//;
    $req->[1] = $path;
    my $res = $t->request($method, $path, %o);
    $statuses{$res->{status}}++;

    if ($res->{status} == 599 || !$res->{status}) {
        bad('no HTTP answer', $req, $res);
        next;
    }
    bad('a 500', $req, $res) if $res->{status} == 500;
    bad('HTML', $req, $res) unless no_html($res);
    if ($res->{status} >= 400) {
        my $j = $res->{json};
        bad('an error that is not a SCIM error object', $req, $res)
            unless scim_ctype_ok($res) && ref $j eq 'HASH'
                   && ref $j->{schemas} eq 'ARRAY'
                   && grep({ defined $_ && $_ eq URN_ERROR } @{$j->{schemas}})
                   && defined $j->{status}
                   && $j->{status} eq "$res->{status}";
    } elsif (length($res->{content} // '') && $method ne 'HEAD') {
        bad('a body that is not SCIM JSON', $req, $res)
            unless scim_ctype_ok($res) && ref $res->{json};
    }
}

diag('statuses: ' . join(', ', map { "$_ x $statuses{$_}" }
                         sort { $a <=> $b } keys %statuses));

for my $what ('no HTTP answer', 'a 500', 'HTML',
              'an error that is not a SCIM error object',
              'a body that is not SCIM JSON')
{
    my $l = $bad{$what} // [];
    ok(!@$l, "$N fuzzed requests: never $what") or diag(join("\n",
        (@$l > 10 ? @$l[0 .. 9] : @$l), @$l > 10 ? '...' : ()));
}

ok(($statuses{201} // 0) + ($statuses{200} // 0) > $N / 20,
   'some fuzzed requests still succeed (the generator reaches past parsing)');
ok(scalar(grep { $_ >= 400 && $_ < 500 } keys %statuses) >= 4,
   'fuzzed requests meet several kinds of 4xx');

is_deeply([sort $t->worker_pids], \@workers, 'no worker exited');

my $r = $t->get("Users/$users[0]");
ok($r->{status} == 200 || $r->{status} == 404, 'the server still serves')
    or diag("status $r->{status}");
$r = $t->create_user(unique_name('after'));
is($r->{status}, 201, 'a user is still created after the fuzz');

$t->finish;
