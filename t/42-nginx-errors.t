#!/usr/bin/perl

# Every answer from a scim location is SCIM JSON, also when nginx itself
# ends the request: a request body that cannot be written to
# client_body_temp_path (found at once, or only while the body is still
# arriving, in nginx's own read handler), a body over client_max_body_size
# (Content-Length or chunked), a broken chunked body, access denied and
# limit_req before the module runs.  Another location keeps nginx's pages.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Time::HiRes qw(sleep);
use ScimTest;

my $t = ScimTest->new(workers => 1);
my $dir = $t->dir;

my $conf = $t->standard_conf(
    extra => <<"EOF",
        client_body_buffer_size 1k;
        client_max_body_size 64k;
        client_body_temp_path $dir/cbt;
EOF
    http_extra => "    limit_req_zone \$binary_remote_addr zone=one:1m rate=1r/m;\n"
                . "    limit_req_zone \$binary_remote_addr zone=two:1m rate=1r/m;",
    server_extra => <<'EOF',
    location /denied/ {
        scim;
        scim_redis %%REDIS%%;
        scim_tenant acme;
        scim_bearer_token_file %%TOKEN_FILE%%;
        deny all;
    }
    location /limited/ {
        scim;
        scim_redis %%REDIS%%;
        scim_tenant acme;
        scim_bearer_token_file %%TOKEN_FILE%%;
        limit_req zone=one burst=1 nodelay;
    }
    location /limited429/ {
        scim;
        scim_redis %%REDIS%%;
        scim_tenant acme;
        scim_bearer_token_file %%TOKEN_FILE%%;
        limit_req zone=two burst=1 nodelay;
        limit_req_status 429;
    }
    location /plain/ {
        return 404;
    }
EOF
);
$t->write_config($conf);
$t->start_nginx_ok;

sub user_body {
    my ($title_len) = @_;
    return json_encode({ schemas => [URN_USER], userName => unique_name(),
                         title => 'x' x $title_len });
}

# a request sent in pieces: headers, then the body in two parts
sub slow_post {
    my ($body, %o) = @_;
    my $s = $t->connect_nginx or return { status => 599, error => 'connect' };
    $t->send_bytes($s, $t->build_request('POST', 'Users', body => $body,
                                         headers_only => 1, %o));
    sleep 0.2;
    $t->send_bytes($s, substr($body, 0, 500));
    sleep 0.2;
    $t->send_bytes($s, substr($body, 500));
    my $r = $t->read_response($s);
    close $s;
    return $r;
}

# ---------------------------------------- body cannot be buffered to disk


{
    # a path that cannot be created: the directory replaced by a file
    system('rm', '-rf', "$dir/cbt");
    $t->write_file('cbt', '');
    $t->{allow_log} = qr{\[crit\].*open\(\) ".*/cbt/\d+" failed};

    for my $i (1 .. 2) {
        my $r = $t->post('Users', user_body(4000));
        is_scim_error($r, 500, undef,
                      "body to a broken temp path, in one piece ($i): SCIM 500");
        ok(no_html($r), "... no HTML ($i)");
    }

    for my $i (1 .. 2) {
        my $r = slow_post(user_body(4000));
        is_scim_error($r, 500, undef,
                      "body to a broken temp path, arriving late ($i): SCIM 500");
        ok(no_html($r), "... no HTML ($i)");
    }

    # a small body needs no temp file and is served
    my $r = $t->post('Users', user_body(10));
    is($r->{status}, 201, 'a body that fits in memory is still created');

    unlink "$dir/cbt";
    mkdir "$dir/cbt";
    $r = slow_post(user_body(4000));
    is($r->{status}, 201, 'temp path back: a large body arriving late is created');
}

# ---------------------------------------------------- body size and framing

{
    my $big = user_body(70000);

    my $r = $t->post('Users', $big);
    is_scim_error($r, 413, undef, 'Content-Length over client_max_body_size: SCIM 413');

    $r = slow_post($big);
    is_scim_error($r, 413, undef, '... sent slowly: SCIM 413');

    $r = $t->request('POST', 'Users', body => $big, chunked => 1);
    is_scim_error($r, 413, undef, 'chunked body over client_max_body_size: SCIM 413');

    my $s = $t->connect_nginx;
    $t->send_bytes($s, "POST " . $t->{base} . "/Users HTTP/1.1\r\n"
        . "Host: localhost\r\nAuthorization: Bearer " . $t->token . "\r\n"
        . "Content-Type: application/scim+json\r\n"
        . "Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n");
    $r = $t->read_response($s);
    close $s;
    is_scim_error($r, 400, undef, 'broken chunked framing: SCIM 400');
    ok(no_html($r), '... no HTML');

}

# ------------------------------------------------ refused before the module

{
    my $r = $t->request('GET', '/denied/Users');
    is_scim_error($r, 403, undef, 'deny all in a scim location: SCIM 403');

    $r = $t->request('HEAD', '/denied/Users');
    is($r->{status}, 403, 'HEAD, denied: 403');
    like($r->{headers}{'content-type'} // '', qr{^application/scim\+json},
         '... announced as SCIM JSON');

    my @st;
    for (1 .. 4) {
        my $res = $t->request('GET', '/limited/Users');
        push @st, $res;
    }
    my @limited = grep { $_->{status} == 503 } @st;
    ok(@limited >= 1, 'limit_req refuses some requests ('
       . join(',', map { $_->{status} } @st) . ')');
    is_scim_error($limited[0] // $st[-1], 503, undef, '... with a SCIM 503');
    is(($limited[0] // $st[-1])->{headers}{'retry-after'}, '1', '... and Retry-After');

    @st = map { $t->request('GET', '/limited429/Users') } 1 .. 4;
    my ($l429) = grep { $_->{status} == 429 } @st;
    is_scim_error($l429 // $st[-1], 429, undef,
                  'limit_req_status 429: a SCIM 429 ('
                  . join(',', map { $_->{status} } @st) . ')');
    is(($l429 // $st[-1])->{headers}{'retry-after'}, '1', '... and Retry-After');

    $r = $t->request('GET', '/plain/x');
    is($r->{status}, 404, 'a location without scim: 404');
    like($r->{content}, qr/<html/i, '... keeps nginx\'s own page');
}

# -------------------------------------------------------- still serving

my $r = $t->get('Users?count=1');
is($r->{status}, 200, 'the worker still serves');

$t->finish;
