#!/usr/bin/perl

# Passwords (issue 7): "password" is stored only as an Argon2id PHC string
# ($argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>) that libargon2's own
# decoder verifies; it is hashed in a thread pool (scim_password_thread_pool,
# else nginx's "default"), so a Bulk of password POSTs and parallel password
# writes leave a GET on the same single worker fast; a PUT or PATCH that does
# not change the password keeps the stored hash (an old $pbkdf2-sha256$ value
# too); bad passwords -> SCIM 400; an unknown pool fails nginx -t clearly;
# no clear password in an answer, in Redis or in a log; the worker gives the
# hashing memory back.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Time::HiRes qw(time sleep);
use MIME::Base64 qw(decode_base64);
use ScimTest;

# Under ASan (make test-asan) freed memory waits in a quarantine, 256 MB
# by default, that would count as the worker's in the memory check
# below: keep it small here (nginx inherits the environment; without
# ASan nothing reads it)
$ENV{ASAN_OPTIONS} = join(':', grep { length } $ENV{ASAN_OPTIONS} // '',
                          'quarantine_size_mb=16');

my $t = ScimTest->new(workers => 1);
my $T = 'acme';
my $P = "scim:{$T}:";

use constant URN_BULK_REQ => 'urn:ietf:params:scim:api:messages:2.0:BulkRequest';

my $PHC = qr/^\$argon2id\$v=19\$m=19456,t=2,p=1\$([A-Za-z0-9+\/]{22})\$([A-Za-z0-9+\/]{43})$/;

# ------------------------------------------------- the verifier (libargon2)

my $verifier = $t->dir . '/argon2_verify';
{
    my $src = $t->repo . '/t/lib/argon2_verify.c';
    my $rc = system('cc', '-O2', '-o', $verifier, $src, '-largon2');
    ok($rc == 0 && -x $verifier, 'the verifier builds against libargon2 (libargon2-dev)')
        or $t->abort('no verifier');
}

# 0: the password (its UTF-8 bytes) matches; 1: it does not; 2: not a
# valid PHC string
sub verify_pw {
    my ($phc, $pw) = @_;
    return 2 unless defined $phc;
    utf8::encode($pw);
    my $in = $t->write_file('pw.in', $pw);
    my $rc = system("'$verifier' '$phc' < '$in' 2>/dev/null");
    return $rc == -1 ? 3 : $rc >> 8;
}

sub stored {
    my ($id, $type) = @_;
    return json_decode($t->redis_cmd('HGET', $P . ($type // 'User') . ':docs', $id) // '') // {};
}

my %clear;          # every clear password sent: none may show up anywhere

sub pw {
    my ($tag) = @_;
    my $pw = "S3cret-$tag-" . int(rand(1e9)) . "-\x{e9}t\x{e9}";   # non-ASCII
    $clear{$pw} = 1;
    return $pw;
}

sub user_body {
    my (%o) = @_;
    return { schemas => [URN_USER], userName => unique_name('pw'), %o };
}

sub bulk {
    my ($ops) = @_;
    return $t->post('Bulk', { schemas => [URN_BULK_REQ], Operations => $ops },
                    timeout => 120);
}

$t->write_config($t->standard_conf(
    extra => "        scim_password_thread_pool scim;\n",
    server_extra => <<'EOF'), main => 'thread_pool scim threads=4;');
    location /dflt/scim/v2/ {
        scim;
        scim_redis %%REDIS%%;
        scim_tenant dflt;
        scim_bearer_token_file %%TOKEN_FILE%%;
    }
EOF
$t->start_nginx_ok;

# the memory a process holds, in KiB: its RSS less what it marked free
# (MADV_FREE, LazyFree in smaps_rollup), which the kernel takes back
# whenever it needs it; in list context also that LazyFree
sub rss_kb {
    my ($pid) = @_;
    my ($rss, $lazy) = (0, 0);
    if (open my $fh, '<', "/proc/$pid/smaps_rollup") {
        while (<$fh>) {
            $rss = $1 if /^Rss:\s+(\d+)/;
            $lazy = $1 if /^LazyFree:\s+(\d+)/;
        }
    } elsif (open $fh, '<', "/proc/$pid/status") {
        while (<$fh>) { $rss = $1 if /^VmRSS:\s+(\d+)/ }
    }
    return wantarray ? ($rss - $lazy, $lazy) : $rss - $lazy;
}

# the worker's memory before any hash
my ($wpid) = $t->worker_pids;
$t->get('Users?count=1');
my $rss0 = rss_kb($wpid);

# --------------------------------------------------------------- the format

my $pw1 = pw('one');
my $r = $t->post('Users', user_body(password => $pw1, displayName => 'Pat One'));
is_scim_json($r, 201, 'POST a user with a password -> 201');
ok(!exists(($r->{json} // {})->{password}), '... no password in the answer');
my $id = ($r->{json} // {})->{id} // 'none';

my $h1 = stored($id)->{password};
like($h1 // '', $PHC, 'stored: a PHC string $argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>');
my ($salt_b64, $hash_b64) = ($h1 // '') =~ $PHC;
is(length(decode_base64(($salt_b64 // '') . '==')), 16, '... a 16-byte salt');
is(length(decode_base64(($hash_b64 // '') . '=')), 32, '... a 32-byte hash');
is(verify_pw($h1, $pw1), 0,
   '... libargon2 argon2id_verify() accepts it with the password (UTF-8 bytes)');
is(verify_pw($h1, 'S3cret-one-wrong'), 1, '... and refuses another password');

my $r2 = $t->post('Users', user_body(password => $pw1));
my $h2 = stored(($r2->{json} // {})->{id} // 'none')->{password};
like($h2 // '', $PHC, 'a second user with the same password: a PHC string too');
isnt(($h2 // '') =~ $PHC ? $1 : 'x', $salt_b64 // 'y', '... with another salt');

$r = $t->post('Users', user_body(password => ''));
is_scim_json($r, 201, 'an empty password is hashed too');
is(verify_pw(stored(($r->{json} // {})->{id} // 'none')->{password}, ''), 0,
   '... and verifies as the empty string');

# ----------------------------------------------- unchanged passwords stay

$r = $t->put("Users/$id", { schemas => [URN_USER], userName => stored($id)->{userName},
                            displayName => 'Pat Put' });
is_scim_json($r, 200, 'PUT without "password"');
is(stored($id)->{password}, $h1, '... keeps the stored hash as it was');
is(stored($id)->{displayName}, 'Pat Put', '... and replaces the rest');

$r = $t->patch_ops($id, { op => 'replace', path => 'displayName', value => 'Pat Patch' });
is_scim_json($r, 200, 'PATCH of another attribute');
is(stored($id)->{password}, $h1, '... keeps the stored hash as it was');

my $pw3 = pw('three');
$r = $t->put("Users/$id", { schemas => [URN_USER], userName => stored($id)->{userName},
                            password => $pw3 });
is_scim_json($r, 200, 'PUT with a new password');
my $h3 = stored($id)->{password};
like($h3 // '', $PHC, '... stored as a new PHC string');
is(verify_pw($h3, $pw3), 0, '... that verifies the new password');
is(verify_pw($h3, $pw1), 1, '... and not the old one');

my $pw4 = pw('four');
$r = $t->patch_ops($id, { op => 'replace', path => 'password', value => $pw4 });
is_scim_json($r, 200, 'PATCH replace password');
my $h4 = stored($id)->{password};
is(verify_pw($h4, $pw4), 0, '... the new hash verifies it');

$r = $t->patch_ops($id, { op => 'replace', value => { password => $pw4, title => 'Same pw' } });
is_scim_json($r, 200, 'PATCH setting the same clear password again');
my $h4b = stored($id)->{password};
like($h4b // '', $PHC, '... stored hashed (a fresh salt: the clear text is not compared)');
is(verify_pw($h4b, $pw4), 0, '... and verifies');

$r = $t->patch_ops($id, { op => 'remove', path => 'password' });
is_scim_json($r, 200, 'PATCH remove password');
ok(!exists stored($id)->{password}, '... gone from the stored document');

# an old PBKDF2 value (as stored before Argon2id) stays as it is
{
    my $old = '$pbkdf2-sha256$4096$c195b5715d8d5c4e2a0285c4de03f2f9$'
            . 'a0ada66f37da7a90a590fc58f620e170eb628a51517dcb9bdc3db8762d63bdf1';
    my $raw = $t->redis_cmd('HGET', "${P}User:docs", $id) // '';
    my $ins = '"password":"' . $old . '",';
    $raw =~ s/"meta":/$ins"meta":/;
    $t->redis_cmd('HSET', "${P}User:docs", $id, $raw);
    is(stored($id)->{password}, $old, 'a user stored with an old $pbkdf2-sha256$ value');
    $r = $t->get("Users/$id");
    is_scim_json($r, 200, '... is served');
    ok(!exists(($r->{json} // {})->{password}), '... without it');
    $r = $t->patch_ops($id, { op => 'replace', path => 'title', value => 'Old pw' });
    is_scim_json($r, 200, '... a PATCH of another attribute');
    is(stored($id)->{password}, $old, '... keeps the old value');
    $r = $t->put("Users/$id", { schemas => [URN_USER], userName => stored($id)->{userName} });
    is_scim_json($r, 200, '... a PUT without "password"');
    is(stored($id)->{password}, $old, '... keeps it too');
}

# ---------------------------------------------------------------- errors

for my $bad ([number => 17], [array => ['x']], [object => { value => 'x' }],
             [boolean => jtrue])
{
    $r = $t->post('Users', user_body(password => $bad->[1]));
    is_scim_error($r, 400, 'invalidValue', "POST with a $bad->[0] password -> 400 invalidValue");
    $r = $t->patch_ops($id, { op => 'replace', path => 'password', value => $bad->[1] });
    is_scim_error($r, 400, 'invalidValue', "PATCH with a $bad->[0] password -> 400 invalidValue");
}
$r = $t->put("Users/$id", { schemas => [URN_USER], userName => stored($id)->{userName},
                            password => 17 });
is_scim_error($r, 400, 'invalidValue', 'PUT with a number password -> 400 invalidValue');
is(stored($id)->{password}, '$pbkdf2-sha256$4096$c195b5715d8d5c4e2a0285c4de03f2f9$'
                            . 'a0ada66f37da7a90a590fc58f620e170eb628a51517dcb9bdc3db8762d63bdf1',
   '... the stored value untouched');

# ---------------------------------------------------------------- the Bulk

{
    my $pa = pw('bulk-a');
    my $pb = pw('bulk-b');
    my $un = unique_name('bulk');
    $r = bulk([
        { method => 'PATCH', path => '/Users/bulkId:u1',
          data => { schemas => [URN_PATCH],
                    Operations => [{ op => 'replace', path => 'password', value => $pb }] } },
        { method => 'POST', path => '/Users', bulkId => 'u1',
          data => { schemas => [URN_USER], userName => $un, password => $pa } },
        { method => 'POST', path => '/Users', bulkId => 'bad',
          data => { schemas => [URN_USER], userName => unique_name('bulk'), password => 5 } },
        { method => 'POST', path => '/Groups', bulkId => 'g1',
          data => { schemas => [URN_GROUP], displayName => "Bulk pw $$",
                    members => [{ value => 'bulkId:u1' }] } },
    ]);
    is($r->{status}, 200, 'a Bulk with password POST and PATCH (forward reference) -> 200');
    my %st = map { (($_->{bulkId} // $_->{method}) => $_->{status}) }
             @{ ($r->{json} // {})->{Operations} // [] };
    is_deeply(\%st, { u1 => 201, PATCH => 200, bad => 400, g1 => 201 },
              '... POST 201, PATCH 200, the number password 400, the group 201');
    my ($loc) = map { $_->{location} } grep { ($_->{bulkId} // '') eq 'u1' }
                @{ ($r->{json} // {})->{Operations} // [] };
    my ($uid) = ($loc // '') =~ m{/Users/([^/]+)$};
    my $h = stored($uid // 'none')->{password};
    is(verify_pw($h, $pb), 0,
       '... the user ends with the PATCHed password (the steps ran in order)');
    my ($gloc) = map { $_->{location} } grep { ($_->{bulkId} // '') eq 'g1' }
                 @{ ($r->{json} // {})->{Operations} // [] };
    my ($gid) = ($gloc // '') =~ m{/Groups/([^/]+)$};
    my $m = $t->redis_members($P, $gid // 'none');
    is_deeply($m, [ $uid // 'x' ], '... and the group holds the user');
}

# the default pool (no scim_password_thread_pool in that location)
{
    my $pd = pw('default-pool');
    $r = $t->post('/dflt/scim/v2/Users', user_body(password => $pd));
    is_scim_json($r, 201, 'a location without the directive (thread pool "default")');
    my $d = json_decode($t->redis_cmd('HGET', 'scim:{dflt}:User:docs', ($r->{json} // {})->{id} // '')
                        // '') // {};
    is(verify_pw($d->{password}, $pd), 0,
       '... hashes the same way');
}

# ------------------------------- the event loop is free while hashes run

my $NB = 60;        # Bulk POSTs with passwords
my $NP = 4;         # parallel clients, each POSTing passwords in a loop
my $bpw = pw('bulk-many');
my @ops = map { { method => 'POST', path => '/Users', bulkId => "b$_",
                  data => { schemas => [URN_USER], userName => unique_name("many$_"),
                            password => "$bpw-$_" } } } 1 .. $NB;
my $bulk_body = { schemas => [URN_BULK_REQ], Operations => \@ops };
$clear{"$bpw-$_"} = 1 for 1 .. $NB;
my $ppw = pw('par');
$clear{"$ppw-$_"} = 1 for 0 .. 199;

my $probe = $t->create_user(user_body(displayName => 'Probe'))->{json} // {};
my $probe_id = $probe->{id} // 'none';

# forked writers: one Bulk, and NP clients with single POSTs for as long
# as the Bulk runs; the parent GETs the probe user meanwhile
my $flag = $t->dir . '/bulk.done';
my $t0 = time;
my $kids = fork;
die "fork: $!" unless defined $kids;
if ($kids == 0) {
    my $out = $t->parallel($NP + 1, sub {
        my $i = shift;
        if ($i == 0) {
            my $res = $t->post('Bulk', $bulk_body, timeout => 120);
            open my $fh, '>', $flag; close $fh;
            my @o = @{ ($res->{json} // {})->{Operations} // [] };
            return { status => $res->{status}, ops => [ map { $_->{status} } @o ],
                     loc => { map { (($_->{bulkId} // '') => $_->{location}) } @o } };
        }
        my ($n, $ok) = (0, 0);
        while (!-e $flag && $n < 50) {
            my $res = $t->post('Users', user_body(password => "$ppw-" . ($i * 50 + $n)),
                               timeout => 60);
            $ok++ if $res->{status} == 201;
            $n++;
        }
        return { n => $n, ok => $ok };
    }, timeout => 150);
    open my $fh, '>', $t->dir . '/writers.json';
    print $fh json_encode($out);
    close $fh;
    POSIX::_exit(0);
}

my @lat;
my $get_bad = 0;
sleep 0.3;
while (!-e $flag && time - $t0 < 150) {
    my $g = $t->get("Users/$probe_id");
    push @lat, $g->{elapsed};
    $get_bad++ unless $g->{status} == 200;
    sleep 0.01;
}
waitpid($kids, 0);
my $took = time - $t0;
my $w = json_decode($t->read_file('writers.json') // '') // [];

my $bres = $w->[0] // {};
is($bres->{status}, 200, "a Bulk of $NB POSTs with passwords -> 200");
is(scalar(grep { ($_ // '') eq '201' } @{ $bres->{ops} // [] }), $NB, "... all $NB created");
my ($pn, $pok) = (0, 0);
for my $k (1 .. $NP) { $pn += ($w->[$k] // {})->{n} // 0; $pok += ($w->[$k] // {})->{ok} // 0 }
ok($pn > 0 && $pok == $pn, "$NP parallel clients meanwhile: $pok of $pn password POSTs 201");

@lat = sort { $a <=> $b } @lat;
my $max = @lat ? $lat[-1] : 9;
my $med = @lat ? $lat[$#lat / 2] : 9;
my $p90 = @lat ? $lat[int(0.9 * $#lat)] : 9;
diag(sprintf('%d hashes in %.1f s; %d GETs meanwhile: median %.1f ms, 90%% %.1f ms, '
             . 'max %.1f ms; the slowest: %s', $NB + $pn, $took, scalar @lat, 1000 * $med,
             1000 * $p90, 1000 * $max,
             join(' ', map { sprintf('%.0f', 1000 * $_) } @lat[($#lat > 7 ? -8 : 0) .. -1])));
ok(@lat >= 10, 'GETs ran on the same worker meanwhile (' . scalar(@lat) . ')');
is($get_bad, 0, '... all 200');
# a hash on the event loop makes the median some 150 ms here (each GET waits
# for the hashes queued before it); the tail is left to the machine's load
ok($med < 0.020, sprintf('... median %.1f ms (< 20 ms): no hash on the event loop', 1000 * $med));
ok($p90 < 0.100, sprintf('... 90%% within %.1f ms (< 100 ms)', 1000 * $p90));
ok($max < 1, sprintf('... max %.1f ms (< 1 s: generous, other builds share the 2 cores)',
                     1000 * $max));

# a sample of the Bulk's users: each hash verifies its own password
{
    my ($n, $bad) = (0, 0);
    for my $k (grep { $_ % 10 == 1 } 1 .. $NB) {
        my ($uid) = (($bres->{loc} // {})->{"b$k"} // '') =~ m{/Users/([^/]+)$};
        next unless $uid;
        $n++;
        $bad++ unless verify_pw(stored($uid)->{password}, "$bpw-$k") == 0;
    }
    is($n, $NB / 10, 'a sample of the Bulk\'s users');
    is($bad, 0, '... each stored hash verifies its own password');
}

# memory: 19 MiB per hash while it runs, given back after (malloc() would
# keep it, some 19 MiB in each thread's arena); a thread keeps its pages
# for its next hash, but marked free (MADV_FREE), which is not held
{
    sleep 0.5;
    my ($rss1, $lazy) = rss_kb($wpid);
    diag(sprintf('worker RSS less LazyFree: %.1f MiB before, %.1f MiB after '
                 . '(LazyFree %.1f MiB)', $rss0 / 1024, $rss1 / 1024, $lazy / 1024));
    ok($rss0 > 0 && $rss1 - $rss0 < 40 * 1024,
       sprintf('worker RSS grew by %.1f MiB (< 40 MiB): the hashing memory is given back',
               ($rss1 - $rss0) / 1024));
}

# ------------------------------------- a reload while hashes are queued
# a worker that shuts down waits for the hashes of its requests: a thread
# task holds no timer, so without one of the module's the old worker
# exited mid-hash and closed the connection ("open socket ... left")
{
    my $n = 40;
    my $rpw = pw('reload');
    $clear{"$rpw-$_"} = 1 for 1 .. $n;
    my @rops = map { { method => 'POST', path => '/Users', bulkId => "r$_",
                       data => { schemas => [URN_USER], userName => unique_name("reload$_"),
                                 password => "$rpw-$_" } } } 1 .. $n;
    my $out = $t->dir . '/reload-bulk.json';
    my $kid = fork;
    die "fork: $!" unless defined $kid;
    if ($kid == 0) {
        my $res = $t->post('Bulk', { schemas => [URN_BULK_REQ], Operations => \@rops },
                           timeout => 120);
        my @o = @{ ($res->{json} // {})->{Operations} // [] };
        open my $fh, '>', $out;
        print $fh json_encode({ status => $res->{status},
                                created => scalar(grep { ($_->{status} // '') eq '201' } @o) });
        close $fh;
        POSIX::_exit(0);
    }
    sleep 0.3;      # the Bulk's hashes under way (some 20 ms each, one at a time)
    my $mark = $t->log_mark;
    ok($t->reload(wait_old => 1, timeout => 60), 'a reload while a Bulk of password POSTs runs');
    waitpid($kid, 0);
    my $r = json_decode($t->read_file('reload-bulk.json') // '') // {};
    is($r->{status}, 200, '... the Bulk is answered 200 by the old worker');
    is($r->{created}, $n, "... all $n users created");
    unlike($t->log_since($mark), qr/open socket .* left in connection/,
           '... no connection left open at the old worker\'s exit');
}

# ------------------------------------------------------------- nginx -t

{
    my $conf = $t->standard_conf(extra => "        scim_password_thread_pool nosuch;\n");
    my ($ok, $out) = $t->nginx_t($conf, main => 'thread_pool scim threads=4;');
    ok(!$ok, 'nginx -t: scim_password_thread_pool naming no thread_pool fails');
    like($out, qr/unknown thread pool "nosuch" in \S+:\d+/, '... saying which pool and where')
        or diag($out);

    ($ok, $out) = $t->nginx_t($t->standard_conf(
        extra => "        scim_password_thread_pool scim;\n        scim_password_thread_pool scim;\n"),
        main => 'thread_pool scim threads=4;');
    ok(!$ok && $out =~ /"scim_password_thread_pool" directive is duplicate/,
       'nginx -t: the directive twice in a location fails') or diag($out);

    ($ok, $out) = $t->nginx_t($t->standard_conf(
        http_extra => "scim_password_thread_pool scim;\n"), main => 'thread_pool scim threads=2;');
    ok($ok, 'nginx -t: the directive at http level, the pool defined') or diag($out);

    ($ok, $out) = $t->nginx_t($t->standard_conf);
    ok($ok, 'nginx -t: no directive, no thread_pool: the default pool') or diag($out);
}

# ----------------------------------------------- no clear password anywhere

{
    my $logs = ($t->read_file('error.log') // '') . ($t->read_file('access.log') // '');
    my @dump;
    for my $k ($t->redis_keys("scim:*")) {
        my $type = $t->redis_cmd('TYPE', $k);
        my $v = $type eq 'string' ? [scalar $t->redis_cmd('GET', $k)]
              : $type eq 'hash' ? $t->redis_cmd('HGETALL', $k)
              : $type eq 'zset' ? $t->redis_cmd('ZRANGE', $k, 0, -1)
              : $type eq 'set' ? $t->redis_cmd('SMEMBERS', $k) : [];
        push @dump, map { $_ // '' } @{ $v // [] };
    }
    my $all = join("\n", @dump);
    my ($in_log, $in_redis) = (0, 0);
    for my $pw (keys %clear) {
        my $b = $pw;
        utf8::encode($b);
        my $ascii = $pw =~ s/-\x{e9}t\x{e9}$//r;
        $in_log++ if index($logs, $ascii) >= 0;
        $in_redis++ if index($all, $ascii) >= 0 || index($all, $b) >= 0;
    }
    is($in_log, 0, 'no clear password in error.log or access.log');
    is($in_redis, 0, 'no clear password in Redis');
}

$t->finish;
