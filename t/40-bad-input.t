#!/usr/bin/perl

# Bad input never crashes a worker, never yields an HTML page or a 5xx:
# malformed JSON, non-object bodies, invalid UTF-8, absurd nesting,
# oversized bodies (413 SCIM error), bad query parameters and filters,
# unsupported methods and paths, odd ids, aborted and slow clients.
# After every input: no [alert]/[crit] in error.log; at the end the same
# worker processes still run.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Time::HiRes qw(time sleep);
use ScimTest;

my $t = ScimTest->new(workers => 2);

$t->write_config($t->standard_conf(extra => '        client_max_body_size 16k;'));
$t->start_nginx_ok;
my @workers = $t->worker_pids;

my $mark = $t->log_mark;
sub clean_log {
    my ($name) = @_;
    $t->no_alerts_since($mark, "$name: no alert/crit in error.log");
    $mark = $t->log_mark;
}

# status in @ok, scim+json error body (when 4xx/5xx), no HTML
sub sane {
    my ($res, $ok, $name) = @_;
    my @why;
    push @why, "status $res->{status} not in (@$ok)" unless grep { $_ == $res->{status} } @$ok;
    push @why, 'HTML in the response' unless no_html($res);
    push @why, 'a 5xx' if $res->{status} >= 500;
    if ($res->{status} >= 400 && $res->{status} < 600) {
        push @why, 'not application/scim+json' unless scim_ctype_ok($res);
        push @why, 'no SCIM error body'
            unless ref $res->{json} eq 'HASH'
                && grep({ $_ eq URN_ERROR } @{ $res->{json}{schemas} // [] })
                && ($res->{json}{status} // '') eq $res->{status};
    }
    ok(!@why, $name) or diag join("\n", @why, "HTTP $res->{status}: "
                                  . substr($res->{content} // '', 0, 400));
    clean_log($name);
}

sub err400 {
    my ($res, $type, $name) = @_;
    is_scim_error($res, 400, $type, $name);
    ok(no_html($res), "$name: no HTML");
    clean_log($name);
}

my $U = URN_USER;

# ------------------------------------------------------------- bad JSON

for my $c (
    [ '{"schemas": [',                        'truncated JSON' ],
    [ qq({"schemas":["$U"],"userName":"a",}), 'trailing comma' ],
    [ 'not json at all',                      'plain text' ],
    [ "{'schemas': ['$U']}",                  'single quotes' ],
    [ '',                                     'empty body' ],
    [ '   ',                                  'only whitespace' ],
    [ qq({"schemas":["$U"],"userName":"a"} x), 'garbage after the object' ],
) {
    err400($t->post('Users', $c->[0]), 'invalidSyntax', "POST $c->[1] -> 400 invalidSyntax");
}

for my $c (
    [ qq([{"schemas":["$U"],"userName":"x"}]), 'an array' ],
    [ '"hello"',  'a string' ],
    [ '42',       'a number' ],
    [ 'null',     'null' ],
    [ 'true',     'true' ],
) {
    err400($t->post('Users', $c->[0]), 'invalidSyntax', "POST $c->[1] body -> 400 invalidSyntax");
}

err400($t->post('Users', qq({"schemas":["$U"],"userName":"bad\xff\xfe"})), undef,
       'invalid UTF-8 bytes in a string -> 400');
err400($t->post('Users', qq({"schemas":["$U"],"userName":"over\xc0\xaflong"})), undef,
       'overlong UTF-8 -> 400');
err400($t->post('Users', qq({"schemas":["$U"],"userName":"a\\ud800b"})), undef,
       'lone surrogate escape -> 400');
err400($t->post('Users', qq({"schemas":["$U"],"userName":"a\\u0000b"})), undef,
       'NUL escape in a string -> 400');
err400($t->post('Users', qq({"schemas":["$U"],"userName":"a","userName":"b"})), undef,
       'duplicate keys -> 400');
err400($t->post('Users', qq({"schemas":["$U"],"userName":"a","active":1e99999})), undef,
       'number overflow -> 400');
err400($t->post('Users', '[' x 10000), undef, '10000 nested arrays -> 400');
err400($t->post('Users', '{"a":' x 3000), undef, '3000 nested objects -> 400');
err400($t->post('Users', qq({"schemas":["$U"],"userName":"n","nickName":) . ('[' x 5000)
                         . (']' x 5000) . '}'), undef,
       '5000 nested arrays as an attribute value -> 400');
sane($t->post('Users', qq({"schemas":["$U"],"userName":"deep\@example.com","x":)
                       . ('{"a":' x 50) . '1' . ('}' x 50) . '}'), [201, 400],
     'unknown attribute nested 50 deep: 201 (dropped) or 400');
sane($t->post('Users', json_encode({ schemas => [$U], userName => 'longkey@example.com',
                                     ('k' x 10000) => 'v' })), [201, 400],
     'a 10000-character unknown key');

# wrong content types (lenient or 415, never 5xx)
sane($t->post('Users', entra_user(), ctype => 'text/plain'), [201, 400, 415],
     'valid JSON as text/plain');
sane($t->post('Users', entra_user(), headers => { 'Content-Type' => undef }), [201, 400, 415],
     'valid JSON without Content-Type');

# PATCH and PUT bodies
my $id = $t->create_user(entra_user())->{json}{id} // 'none';
err400($t->patch("Users/$id", '{"Operations": ['), 'invalidSyntax', 'PATCH truncated JSON');
err400($t->patch("Users/$id", '[]'), 'invalidSyntax', 'PATCH array body');
err400($t->patch("Users/$id", ''), undef, 'PATCH empty body');
err400($t->put("Users/$id", '{"userName": '), 'invalidSyntax', 'PUT truncated JSON');
err400($t->put("Users/$id", '"x"'), 'invalidSyntax', 'PUT string body');
err400($t->patch("Users/$id", qq({"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"displayName","value":"\xff"}]})),
       undef, 'PATCH with invalid UTF-8');
is($t->get("Users/$id")->{status}, 200, 'the user survived the bad PATCH/PUT bodies');

# ------------------------------------------------------ oversized bodies

my $big = json_encode(entra_user(title => 'x' x 40000));
my $r = $t->post('Users', $big);
is_scim_error($r, 413, undef, 'body over client_max_body_size -> 413 SCIM error');
ok(no_html($r), '413: no HTML page');
clean_log('413');
$r = $t->post('Users', $big, chunked => 1, chunk_size => 4096);
is_scim_error($r, 413, undef, 'chunked body over client_max_body_size -> 413 SCIM error');
ok(no_html($r), 'chunked 413: no HTML page');
clean_log('chunked 413');
$r = $t->patch("Users/$id", $big);
is_scim_error($r, 413, undef, 'PATCH over the limit -> 413 SCIM error');
clean_log('PATCH 413');
is_scim_json($t->post('Users', entra_user(title => 'y' x 10000)), 201,
             'a 10 KB body under the 16k limit is fine');

# ------------------------------------------------- query parameters

for my $q ('count=abc', 'startIndex=abc', 'count=', 'startIndex=', 'count=1.5',
           'startIndex=2.5', 'count=99999999999999999999', 'startIndex=99999999999999999999',
           'count=-99999999999999999999', 'count=0x10', 'count=%00', 'count=5&count=7',
           'startIndex=1&startIndex=x', 'count=%zz', '%zz=1', 'filter', 'filter=',
           '&&&', '=', 'count=1;drop')
{
    sane($t->get("Users?$q"), [200, 400], "GET /Users?$q: 200 or 400, never 5xx/HTML");
    my $res = $t->get("Users?$q");
    if ($res->{status} == 400) {
        is_scim_error($res, 400, undef, "... $q: a SCIM 400");
    }
}

for my $f ('(((', 'userName eq', 'userName zz "x"', 'userName eq "unterminated',
           '"just a string"', 'userName eq "a" and', 'emails[type eq "work"',
           'userName eq "a" or or userName eq "b"', ')', 'eq "x"', 'userName eq "a" ) (')
{
    my $res = $t->list(filter => $f);
    is_scim_error($res, 400, 'invalidFilter', "filter '$f' -> 400 invalidFilter");
    clean_log("filter $f");
}
# 3000 nested parentheses (sent unencoded to stay under 8k of URI):
# 400 invalidFilter (too deep) or a match, never a crash
sane($t->get('Users?filter=' . ('(' x 3000) . 'userName%20eq%20%22a%22' . (')' x 3000)),
     [200, 400], 'filter with 3000 nested parentheses');
sane($t->get('Users?filter=' . ('(' x 3000)), [400], 'filter of 3000 open parentheses');
sane($t->get('Users?filter=' . ('not%20(' x 1000) . 'userName%20eq%20%22a%22' . (')' x 1000)),
     [200, 400], 'filter with 1000 nested not()');
sane($t->get('Users?filter=userName%20eq%20%22%ff%fe%22'), [200, 400],
     'filter value with invalid UTF-8');

# ------------------------------------------------- methods and paths

for my $c (['DELETE', 'Users'], ['PUT', 'Users'], ['PATCH', 'Users'],
           ['POST', "Users/$id"], ['FOO', 'Users'], ['PROPFIND', "Users/$id"],
           ['OPTIONS', 'Users'])
{
    my ($m, $p) = @$c;
    my $res = $t->request($m, $p, body => ($m =~ /^(PUT|PATCH|POST)$/ ? entra_user() : undef));
    my $st = $res->{status};
    ok($st == 405 || $st == 501, "$m /$p -> 405 or 501") or diag "got $st";
    is_scim_error($res, $st, undef, "$m /$p: SCIM error body");
    clean_log("$m /$p");
}
is($t->get("Users/$id")->{status}, 200, 'the user survived POST/PROPFIND on its URL');

# (no %00 and no ../ leaving the location: nginx itself answers those)
for my $p ('NoSuchResource', "Users/$id/extra", 'Users/..%2FNoSuch',
           'Users/x%7D:User:ids', 'Users/%7Bacme%7D', 'Users/*', 'Users/id%20with%20space',
           'Users/' . ('a' x 3000), 'Users/%ff%fe', "Users/$id%3Bx")
{
    my $name = length $p > 40 ? substr($p, 0, 30) . '...' : $p;
    my $res = $t->get($p);
    sane($res, [400, 404], "GET /$name -> 404 (or 400)");
}
is($t->redis_cmd('TYPE', 'scim:{acme}:User:ids'), 'zset', 'the ids zset is intact');

# ------------------------------------------- slow, aborted, pipelined

# headers first, the body a second later
my $s = $t->connect_nginx;
my $body = json_encode(entra_user());
$t->send_bytes($s, $t->build_request('POST', 'Users', body => $body, headers_only => 1));
sleep 1;
$t->send_bytes($s, $body);
is_scim_json($t->read_response($s), 201, 'body arriving 1 s after the headers -> 201');
close $s;

# body shorter than Content-Length, then the client gives up
$s = $t->connect_nginx;
$t->send_bytes($s, $t->build_request('POST', 'Users', body => $body,
                                     content_length => length($body) + 100));
sleep 0.2;
close $s;

# complete requests whose clients vanish before the answer
for my $i (1 .. 30) {
    my $c = $t->connect_nginx or next;
    $t->send_bytes($c, $t->build_request('POST', 'Users', body => entra_user()));
    $t->send_bytes($c, $t->build_request('GET', "Users/$id"));
    $t->send_bytes($c, $t->build_request('GET', 'Users?' . qs(filter => 'userName eq "x"')));
    close $c;
}
sleep 0.5;
is_scim_json($t->get("Users/$id"), 200, 'serving after 30 aborted clients');
clean_log('aborted clients');

# pipelined requests are answered in order
my $req = join '', map { $t->build_request('GET', "Users/$id") } 1 .. 2;
$req .= $t->build_request('GET', 'Users/no-such-id');
$r = $t->raw_request($req, count => 3);
is_deeply([ map { $_->{status} } @{ $r->{all} // [] } ], [200, 200, 404],
          '3 pipelined requests answered in order');

# the same workers still run: nobody crashed
is_deeply([ $t->worker_pids ], \@workers, 'no worker process died or was respawned');

$t->finish;
