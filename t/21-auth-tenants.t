#!/usr/bin/perl

# Tokens bound to a tenant: in a per-customer location (a regex capture as
# scim_tenant), a "<tenant> <token>" line opens that customer only; a
# plain line opens every customer of the location.

use strict;
use warnings;

use lib 't/lib';
use Test::More;
use Digest::SHA qw(sha256_hex);
use ScimTest;

my $t = ScimTest->new(workers => 1);

my $tok_a = 'alpha-token-0123456789abcdef';
my $tok_b = 'beta-token-0123456789abcdefgh';
my $tok_all = 'admin-token-0123456789abcdef';

$t->write_file('bound.tokens', <<"EOF");
# customer alpha
alpha $tok_a
# customer beta, hashed
beta  sha256:${\ sha256_hex($tok_b) }
# every customer of the location
$tok_all
EOF

$t->write_config(<<'EOF');
server {
    listen 127.0.0.1:%%PORT%%;
    server_name localhost;

    location ~ ^/c/(?<customer>[a-z0-9]+)/scim/v2/ {
        scim;
        scim_redis %%REDIS%%;
        scim_tenant $customer;
        scim_bearer_token_file %%DIR%%/bound.tokens;
    }
}
EOF
$t->start_nginx or BAIL_OUT('nginx did not start');

sub users {
    my ($customer, $token) = @_;
    return $t->get("/c/$customer/scim/v2/Users", token => $token);
}

is_scim_json(users('alpha', $tok_a), 200, 'alpha token opens alpha');
is_scim_error(users('beta', $tok_a), 401, undef, '... not beta');
is_scim_json(users('beta', $tok_b), 200, 'beta token (sha256 line) opens beta');
is_scim_error(users('alpha', $tok_b), 401, undef, '... not alpha');
is_scim_error(users('gamma', $tok_a), 401, undef, 'alpha token: not another customer');
is_scim_json(users('alpha', $tok_all), 200, 'unbound token opens alpha');
is_scim_json(users('gamma', $tok_all), 200, '... and any other customer');
is_scim_error(users('alpha', 'alpha'), 401, undef, 'the tenant name is no token');

# every 401 says why in error.log, at info, with no token material

{
    my @cases = (
        [ sub { users('beta', $tok_a) }, qr/401: a bearer token of another tenant/,
          "another tenant's token" ],
        [ sub { users('alpha', 'an-unknown-token-0123456789') },
          qr/401: a bearer token in no token file/, 'an unknown token' ],
        [ sub { users('alpha', undef) }, qr/401: no Authorization header/,
          'no Authorization header' ],
        [ sub { $t->get('/c/alpha/scim/v2/Users', token => undef,
                        headers => { Authorization => 'Basic eDp5' }) },
          qr/401: the Authorization header is not "Bearer <token>"/,
          'Basic instead of Bearer' ],
    );
    for my $c (@cases) {
        my $mark = $t->log_mark;
        is($c->[0]->()->{status}, 401, "$c->[2]: 401");
        my $log = '';
        for (1 .. 20) {
            $log = $t->log_since($mark);
            last if $log =~ $c->[1];
            select undef, undef, undef, 0.05;
        }
        like($log, qr/\[info\].*$c->[1]/, "$c->[2]: error.log says why, at info");
        unlike($log, qr/\Q$tok_a\E|an-unknown-token|eDp5/,
               "$c->[2]: no token material in error.log");
    }
}

# data stays per customer

my $r = $t->post('/c/alpha/scim/v2/Users', { schemas => [URN_USER], userName => 'a1' },
                 token => $tok_a);
is_scim_json($r, 201, 'alpha creates a user');
my $l = $t->get('/c/beta/scim/v2/Users?filter=' . uri_escape('userName eq "a1"'),
                token => $tok_b);
is($l->{json}{totalResults}, 0, "beta does not see alpha's user");
$l = $t->get('/c/alpha/scim/v2/Users?filter=' . uri_escape('userName eq "a1"'),
             token => $tok_a);
is($l->{json}{totalResults}, 1, '... alpha does');

# a malformed line fails the configuration, naming the line

$t->write_file('bad.tokens', "alpha tok en-with-a-space-0123456789\n");
my ($ok, $out) = $t->nginx_t(<<'EOF');
server {
    listen 127.0.0.1:%%PORT%%;
    location /scim/v2/ {
        scim;
        scim_redis %%REDIS%%;
        scim_bearer_token_file %%DIR%%/bad.tokens;
    }
}
EOF
ok(!$ok, 'three fields on a token line: nginx -t fails');
like($out, qr/bad\.tokens.*line 1/, '... naming the file and line');

$t->finish;
