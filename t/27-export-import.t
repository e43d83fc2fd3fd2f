#!/usr/bin/perl

# tools/scim-export and scim-import: a tenant exported and imported under
# another name holds exactly the same Redis data (every key, byte for
# byte: documents with non-ASCII and control characters, the zsets with
# their NUL separators, credentials), answers the same through the API,
# and is consistent (t/lib/ScimCheck.pm); a tenant that has keys is not
# overwritten without --replace; a truncated file writes nothing.  Runs
# on a Redis Cluster too (SCIM_TEST_REDIS=cluster).

use strict;
use warnings;
use utf8;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use ScimTest;
use ScimCheck;

my $t = ScimTest->new(workers => 1);
my $dir = $t->dir;
my $tool = $t->repo . '/tools/scim-export';
my $import = $t->repo . '/tools/scim-import';

$t->write_config($t->standard_conf(tenant => 'acme', server_extra => <<'EOF'));
    location /copy/scim/v2/ {
        scim;
        scim_redis %%REDIS%%;
        scim_tenant copy;
        scim_bearer_token_file %%TOKEN_FILE%%;
    }
EOF
$t->start_nginx_ok;

# the Redis address for the tools: the first seed on a cluster
# (on a cluster a primary that may not own the tenant's slot: the tools
# follow MOVED)
my ($rhost, $rport) = ('127.0.0.1', $t->cluster ? ($t->cluster->primaries)[0]
                                                : $t->redis_port);

sub capture {
    my (@cmd) = @_;
    my $pid = open(my $fh, '-|') // die "fork: $!";
    if ($pid == 0) {
        open STDERR, '>', "$dir/tool.err";
        exec(@cmd) or exit 127;
    }
    local $/;
    my $o = <$fh>;
    close $fh;
    return ($? >> 8, $o // '', $t->read_file('tool.err') // '');
}

# ---- a tenant with a bit of everything

my $mgr = $t->create_user(entra_user(userName => 'mgr@export.example',
                                     displayName => 'Mänäger'))->{json}{id};
my @u;
for my $i (1 .. 30) {
    my $r = $t->create_user(entra_user(
        userName => "user$i\@export.example",
        externalId => "ext-$i",
        displayName => "Ünïcödé $i \x{2603}",
        title => "tab\there, newline\nthere",
        URN_ENT() => { manager => { value => $mgr }, department => 'D' },
    ));
    is($r->{status}, 201, "user $i created") if $i == 1;
    push @u, $r->{json}{id};
}
my $g = $t->post('Groups', { schemas => [URN_GROUP], displayName => 'Exporters',
                             members => [ map { { value => $_ } } @u[0 .. 19] ] });
is($g->{status}, 201, 'a group of 20');
my $g2 = $t->post('Groups', { schemas => [URN_GROUP], displayName => 'Outer',
                              members => [ { value => $g->{json}{id} },
                                           { value => $mgr } ] });
is($g2->{status}, 201, 'a group holding it');
$t->redis_cmd('HSET', 'scim:{acme}:auth:tokens', 'ab' x 32, '1700000000 0 label');

my $before = $t->redis_dump('scim:{acme}:*');
# the change events (issue 11): a log of the writes, not exported
ok(delete $before->{'scim:{acme}:events'}, 'acme has its change events');
ok(keys %$before >= 12, 'acme has its keys: ' . scalar(keys %$before));

# ---- export

my ($rc, $out, $err) = capture($tool, '-h', $rhost, '-p', $rport, 'acme');
is($rc, 0, 'export: exit 0') or diag $err;
my @lines = split /\n/, $out;
like($lines[0] // '', qr/^\{.*"scim_export":1.*"tenant":"acme"/, 'a header line');
like($lines[-1] // '', qr/^\{"end":\d+\}$/, 'an end line');
my ($n) = ($lines[-1] // '') =~ /(\d+)/;
is($n, @lines - 2, 'the end line counts the item lines');
unlike($out, qr/[^\x00-\x7f]/, 'ASCII only (bytes above 127 as \u00XX)');
$t->write_file('acme.ndjson', $out);

# ---- import under another name

($rc, undef, $err) = capture($import, '-h', $rhost, '-p', $rport,
                             '--as', 'copy', "$dir/acme.ndjson");
is($rc, 0, 'import --as copy: exit 0') or diag $err;

my $after = $t->redis_dump('scim:{copy}:*');
my %norm = map { (my $k = $_) =~ s/^scim:\{copy\}:/scim:{acme}:/; ($k => $after->{$_}) }
           keys %$after;
is_deeply(\%norm, $before, 'copy holds exactly what acme holds, byte for byte');

my $a1 = $t->get("Users/$u[0]")->{json} // {};
my $c1 = $t->request('GET', "/copy/scim/v2/Users/$u[0]")->{json} // {};
# the same but for the base of meta.location and $ref (another location)
delete $_->{meta}{location} for $a1, $c1;
(my $ctext = json_encode($c1)) =~ s{/copy/scim/v2/}{/scim/v2/}g;
$c1 = json_decode($ctext);
is_deeply($c1, $a1, 'a user reads the same through the copy\'s location');
my $cg = $t->request('GET', "/copy/scim/v2/Groups/" . $g->{json}{id})->{json} // {};
is(scalar @{ $cg->{members} // [] }, 20, 'the group has its 20 members there');
my $f = $t->request('GET', '/copy/scim/v2/Users?' . entra_filter_qs('userName', 'user7@export.example'));
is($f->{json}{totalResults}, 1, 'the userName index works there');

my ($problems) = ScimCheck::check_tenant($t, 'copy',
    get => sub { $t->request('GET', "/copy/scim/v2/$_[0]") });
is_deeply($problems, [], 'ScimCheck: the copy is consistent')
    or diag join "\n", @$problems[0 .. ($#$problems < 20 ? $#$problems : 19)];

# ---- a tenant with keys: refused, then --replace

$t->post('Users', { schemas => [URN_USER], userName => 'x' });     # into acme
($rc, undef, $err) = capture($import, '-h', $rhost, '-p', $rport,
                             '--as', 'copy', "$dir/acme.ndjson");
is($rc, 2, 'import into a tenant with keys: exit 2');
like($err, qr/--replace/, '... says --replace');
$t->request('POST', '/copy/scim/v2/Users',
            body => { schemas => [URN_USER], userName => 'only-in-copy' });
($rc, undef, $err) = capture($import, '-h', $rhost, '-p', $rport,
                             '--as', 'copy', '--replace', "$dir/acme.ndjson");
is($rc, 0, 'import --replace: exit 0') or diag $err;
$after = $t->redis_dump('scim:{copy}:*');
%norm = map { (my $k = $_) =~ s/^scim:\{copy\}:/scim:{acme}:/; ($k => $after->{$_}) }
        keys %$after;
is_deeply(\%norm, $before, '--replace: the copy is the export again');

# ---- a truncated or bad file writes nothing

$t->write_file('trunc.ndjson', join("\n", @lines[0 .. $#lines - 1]) . "\n");
($rc, undef, $err) = capture($import, '-h', $rhost, '-p', $rport,
                             '--as', 'trunc', "$dir/trunc.ndjson");
is($rc, 1, 'a truncated file: exit 1');
like($err, qr/truncated/, '... says so');
my @tk = $t->redis_keys('scim:{trunc}:*');
is(scalar @tk, 0, '... and wrote nothing');

$t->write_file('bad.ndjson', "$lines[0]\n{\"k\":\"x\"}\n{\"end\":1}\n");
($rc) = capture($import, '-h', $rhost, '-p', $rport, '--as', 'trunc',
                "$dir/bad.ndjson");
is($rc, 1, 'a bad item line: exit 1');
@tk = $t->redis_keys('scim:{trunc}:*');
is(scalar @tk, 0, '... nothing written');

($rc, $out) = capture($tool, '--help');
is($rc, 0, '--help: exit 0');
like($out, qr/^usage: scim-export/, '... usage');
($rc) = capture($tool, '-h', $rhost, '-p', $rport, 'a{b}');
is($rc, 1, 'a tenant with braces: exit 1');

$t->finish;
