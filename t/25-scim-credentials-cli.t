#!/usr/bin/perl

# tools/scim-credentials (issue 10): every subcommand against a real
# Redis, the records it writes (the layout the module reads: README
# "Credentials in Redis"), lists that never show a token or a secret,
# usage and exit codes; on a Redis Cluster (SCIM_TEST_REDIS=cluster)
# through every primary, so that MOVED is followed.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Digest::SHA qw(sha256_hex);
use Time::Local qw(timegm);
use ScimTest;

my $t = ScimTest->new(module => 0);
my $dir = $t->dir;
my $tool = $t->repo . '/tools/scim-credentials';
my @ports = $t->cluster ? ($t->cluster->primaries) : ($t->redis_port);
my $n = 0;

# (exit code, stdout, stderr); a cluster: each call through the next
# primary
sub cli {
    my @args = @_;
    my $port = $ports[$n++ % @ports];
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        open STDOUT, '>', "$dir/out" or exit 99;
        open STDERR, '>', "$dir/err" or exit 99;
        exec $^X, $tool, '-h', '127.0.0.1', '-p', $port, @args;
        exit 99;
    }
    waitpid($pid, 0);
    return ($? >> 8, $t->read_file('out') // '', $t->read_file('err') // '');
}

sub ok_cli {
    my ($name, @args) = @_;
    my ($rc, $out, $err) = cli(@args);
    is($rc, 0, "$name: exit 0") or diag($err);
    return $out;
}

sub new_secret {
    my ($name, @args) = @_;
    my $out = ok_cli($name, @args);
    like($out, qr/^[A-Za-z0-9_-]{43}\n\z/, "$name: the secret alone, once");
    chomp $out;
    return $out;
}

my $TOK = 'scim:{acme}:auth:tokens';
my $CLI = 'scim:{acme}:auth:clients';

# ---- usage

for my $h (['--help'], [qw(token --help)]) {
    my ($rc, $out) = cli(@$h);
    is($rc, 0, "@$h: exit 0");
    like($out, qr/^usage: scim-credentials/, "@$h: usage on stdout");
    like($out, qr/revoke-tokens/, "@$h: lists the subcommands");
}
for my $bad ([], ['token'], [qw(token create)], [qw(token frob acme)],
             [qw(client create acme)], [qw(token create acme --bogus)],
             [qw(client rotate acme a b)]) {
    my ($rc, undef, $err) = cli(@$bad);
    is($rc, 1, "usage error (@$bad): exit 1");
    like($err, qr/usage:/, "usage error (@$bad): usage on stderr");
}
{
    my ($rc, undef, $err) = cli(qw(token create a{b));
    is($rc, 1, 'a tenant with a brace: exit 1');
    like($err, qr/tenant/, 'and says why');
    ($rc, undef, $err) = cli(qw(token create acme --expires 2020-01-01));
    is($rc, 1, '--expires in the past: exit 1');
    ($rc) = cli(qw(token create acme --expires 2099-02-30));
    is($rc, 1, '--expires: no such date: exit 1');
    ($rc) = cli(qw(token create acme --expires tomorrow));
    is($rc, 1, '--expires: not a date: exit 1');
    is($t->redis_cmd('EXISTS', $TOK), 0, 'nothing written by those');
}

# ---- tokens

my $t1 = new_secret('token create', qw(token create acme --label),
                    'Entra app', '--expires', '2099-12-31');
my $t2 = new_secret('token create (no label, no expiry)',
                    qw(token create acme));
isnt($t1, $t2, 'two tokens differ');

{
    my $r1 = $t->redis_cmd('HGET', $TOK, sha256_hex($t1));
    my ($created, $exp, $label) = split / /, $r1 // '', 3;
    ok(abs($created - time) < 300, 'record: created now');
    is($exp, timegm(0, 0, 0, 1, 0, 2100), 'record: expires at the end of '
                                          . 'the day given (UTC)');
    is($label, 'Entra app', 'record: the label');
    like($t->redis_cmd('HGET', $TOK, sha256_hex($t2)) // '', qr/^\d+ 0\z/,
         'record without label: "<created> 0"');
    is($t->redis_cmd('HLEN', $TOK), 2, 'two fields, keyed by digest');
}

{
    my $out = ok_cli('token list', qw(token list acme));
    like($out, qr/^DIGEST\s+CREATED\s+EXPIRES\s+STATE\s+LABEL/m, 'a header');
    my ($p1, $p2) = map { substr(sha256_hex($_), 0, 12) } $t1, $t2;
    like($out, qr/^$p1\s.*2100-01-01T00:00:00Z.*valid\s+Entra app$/m,
         'token 1: digest prefix, expiry, label');
    like($out, qr/^$p2\s.*never/m, 'token 2: never expires');
    unlike($out, qr/\Q$t1\E|\Q$t2\E/, 'no token in the list');
    unlike($out, qr/\Q${\ sha256_hex($t1)}\E/, 'nor a whole digest');
}

{
    my ($rc, undef, $err) = cli(qw(token revoke acme 0000000000));
    is($rc, 2, 'revoke an unknown prefix: exit 2');
    ($rc) = cli(qw(token revoke acme abc));
    is($rc, 1, 'a prefix shorter than 6: exit 1');
    ok_cli('token revoke', qw(token revoke acme),
           uc substr(sha256_hex($t1), 0, 8));
    is($t->redis_cmd('HEXISTS', $TOK, sha256_hex($t1)), 0, 'token 1 gone');
    is($t->redis_cmd('HEXISTS', $TOK, sha256_hex($t2)), 1, 'token 2 kept');
    ok_cli('token revoke --all', qw(token revoke acme --all));
    is($t->redis_cmd('EXISTS', $TOK), 0, '--all: the hash is gone');
}

# ---- clients

my $s1 = new_secret('client create', qw(client create acme entra));
{
    my ($rc, $out, $err) = cli(qw(client create acme entra));
    is($rc, 3, 'client create of an existing client: exit 3');
    is($out, '', 'and no secret');
    my $rec = $t->redis_cmd('HGET', $CLI, 'entra') // '';
    like($rec, qr/^\d+ 0 ${\ sha256_hex($s1)}:0\z/,
         'record: "<created> 0 <sha256>:0"');
}

my $s2 = new_secret('client rotate', qw(client rotate acme entra --expires
                                        2098-06-30));
{
    my ($c, $rb, @s) = split / /, $t->redis_cmd('HGET', $CLI, 'entra');
    is_deeply(\@s, [ sha256_hex($s1) . ':0',
                     sha256_hex($s2) . ':' . timegm(0, 0, 0, 1, 6, 2098) ],
              'rotate: the old secret kept, the new one added with expiry');
}
{
    my ($rc) = cli(qw(client rotate acme nobody));
    is($rc, 2, 'rotate an unknown client: exit 2');
}

my $s3 = new_secret('client create (another)',
                    qw(client create acme other --expires 2099-01-01));
{
    my $out = ok_cli('client list', qw(client list acme));
    like($out, qr/^CLIENT\s+CREATED\s+TOKENS REVOKED BEFORE\s+SECRETS/m,
         'a header');
    my ($p1, $p2) = map { substr(sha256_hex($_), 0, 12) } $s1, $s2;
    my $both = "$p1 (expires never), $p2 (expires 2098-07-01";
    like($out, qr/^entra\s.*\s-\s+\Q$both\E/m,
         'entra: both secrets by prefix and expiry');
    like($out, qr/^other\s/m, 'other listed');
    unlike($out, qr/\Q$s1\E|\Q$s2\E|\Q$s3\E/, 'no secret in the list');
}

{
    my ($rc) = cli(qw(client secret-remove acme entra 000000));
    is($rc, 2, 'secret-remove of an unknown prefix: exit 2');
    ok_cli('client secret-remove', qw(client secret-remove acme entra),
           substr(sha256_hex($s1), 0, 10));
    my ($c, $rb, @s) = split / /, $t->redis_cmd('HGET', $CLI, 'entra');
    is(scalar @s, 1, 'one secret left');
    like($s[0], qr/^\Q${\ sha256_hex($s2)}\E:/, 'the new one');
}

{
    my $before = int(Time::HiRes::time() * 1000);
    ok_cli('client revoke-tokens', qw(client revoke-tokens acme entra));
    my $after = int(Time::HiRes::time() * 1000);
    my ($c, $rb, @s) = split / /, $t->redis_cmd('HGET', $CLI, 'entra');
    ok($rb >= $before - 5 && $rb <= $after + 5,
       'revoke-tokens: revoked_before is now, in ms');
    is(scalar @s, 1, 'the secret kept');
    my $out = ok_cli('client list after revoke-tokens',
                     qw(client list acme));
    like($out, qr/^entra\s+\S+\s+\d{4}-\d\d-\d\dT[\d:]+\.\d{3}Z\s/m,
         'list shows when');
    my ($rc) = cli(qw(client revoke-tokens acme nobody));
    is($rc, 2, 'revoke-tokens of an unknown client: exit 2');
}

# a record the application wrote badly: an error, not a rewrite
{
    $t->redis_cmd('HSET', $CLI, 'broken', 'not a record');
    my ($rc, undef, $err) = cli(qw(client rotate acme broken));
    is($rc, 1, 'rotate a bad record: exit 1');
    like($err, qr/unexpected shape/, 'and says so');
    is($t->redis_cmd('HGET', $CLI, 'broken'), 'not a record',
       'the record is left alone');
    my $out = ok_cli('client list with a bad record', qw(client list acme));
    like($out, qr/^broken\s+\(a record of an unexpected shape\)/m,
         'list marks it');
}

{
    ok_cli('client revoke', qw(client revoke acme entra));
    is($t->redis_cmd('HEXISTS', $CLI, 'entra'), 0, 'revoke: the client gone');
    is($t->redis_cmd('HEXISTS', $CLI, 'other'), 1, 'the other one kept');
    my ($rc) = cli(qw(client revoke acme entra));
    is($rc, 2, 'revoke again: exit 2');
}

# tenants apart
{
    my $g = new_secret('a token of globex', qw(token create globex));
    is($t->redis_cmd('HLEN', 'scim:{globex}:auth:tokens'), 1,
       'in globex\'s hash');
    is($t->redis_cmd('EXISTS', $TOK), 0, 'not in acme\'s');
}

# Redis unreachable: exit 1
{
    my $pid = fork // die;
    if ($pid == 0) {
        open STDOUT, '>', "$dir/out"; open STDERR, '>', "$dir/err";
        exec $^X, $tool, '-p', 1, qw(token list acme);
        exit 99;
    }
    waitpid($pid, 0);
    is($? >> 8, 1, 'no Redis: exit 1');
    like($t->read_file('err') // '', qr/cannot connect/, 'and says so');
}

$t->finish;
