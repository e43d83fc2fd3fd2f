package ScimLua;

# Runs the store's Lua scripts (ngx_http_scim_module/store/lua) alone,
# by EVAL against the bare redis-server of a ScimTest (module => 0): no
# nginx, no C.  A script runs as the module sends it: what it uses of
# lib.lua, then the script.
#
#   my $t = ScimTest->new(module => 0);
#   my $l = ScimLua->new($t, 't1');          # tenant t1
#   my $r = $l->run('get', [$l->shared, $l->key('User:u1'), ...], @argv);
#   my ($r, $err) = $l->run_err(...);        # err: a Redis error reply
#   $l->user('u1', 'alice', ...)             # a user made by create.lua
#
# Key names: $l->key('User:u1') is "scim:{t1}:User:u1"; $l->shared the
# four shared keys every script that uses the library takes first.

use strict;
use warnings;

use ScimTest;
use IO::Socket::INET;
use IO::Select;

my $DIR = ScimTest->repo . '/ngx_http_scim_module/store/lua';

sub slurp {
    my ($path) = @_;
    open(my $fh, '<:raw', $path) or die "$path: $!";
    local $/;
    return scalar <$fh>;
}

# the text the module sends (gen.pl --body: what the script uses of
# lib.lua, then the script)
my %source;

sub source {
    my ($class, $name) = @_;
    return $source{$name} //= do {
        my $text = `perl $DIR/gen.pl --body $name`;
        die "gen.pl --body $name failed\n" if $? != 0 || $text eq '';
        $text;
    };
}

sub new {
    my ($class, $t, $tenant) = @_;
    return bless { t => $t, p => "scim:{$tenant}:" }, $class;
}

sub prefix { $_[0]{p} }
sub key    { $_[0]{p} . $_[1] }

sub shared {
    my ($self) = @_;
    return map { $self->key($_) }
        qw(User:display Group:display User:manager User:idx:email);
}

# a command's reply (a scalar, even in list context)
sub cmd { my $self = shift; return scalar $self->{t}->redis_cmd(@_) }

# a script's reply; run_err: (reply, Redis error)
sub run { my $self = shift; return scalar $self->run_err(@_) }

sub run_err {
    my ($self, $name, $keys, @argv) = @_;
    my ($r, $e) = $self->{t}->redis_cmd('EVAL', ScimLua->source($name),
                                        scalar(@$keys), @$keys, @argv);
    return wantarray ? ($r, $e) : $r;
}

# run_err, and the keys the script's commands named, as MONITOR saw
# them: (reply, error, [key, ...])
sub touched {
    my ($self, $name, $keys, @argv) = @_;
    my $m = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                  PeerPort => $self->{t}->redis_port,
                                  Timeout => 5) or die "monitor: $!";
    print $m "MONITOR\r\n";
    my $buf = '';
    my $sel = IO::Select->new($m);
    while ($buf !~ /\+OK\r\n/) {
        $sel->can_read(5) or die 'MONITOR: no answer';
        sysread($m, $buf, 65536, length $buf) or die 'MONITOR: EOF';
    }
    $buf = '';
    my ($r, $e) = $self->run_err($name, $keys, @argv);
    my $mark = 'end-of-script-' . rand();
    $self->cmd('ECHO', $mark);
    while (index($buf, $mark) < 0) {
        $sel->can_read(5) or die 'MONITOR: no end mark';
        sysread($m, $buf, 65536, length $buf) or die 'MONITOR: EOF';
    }
    close($m);
    my @keys;
    for my $line (split /\r\n/, $buf) {
        next unless $line =~ /\[\d+ lua\] (.*)$/;
        my @a = $1 =~ /"((?:[^"\\]|\\.)*)"/g;
        my $cmd = uc shift @a;
        push @keys, $cmd eq 'SUNION' ? @a : $a[0];
    }
    return ($r, $e, \@keys);
}

# a stored document's text without its version tail, and with it
sub head {
    my ($self, $id, $name, $lm) = @_;
    $lm //= '2026-01-01T00:00:00.000Z';
    return qq({"id":"$id","name":"$name","meta":{"lastModified":"$lm",)
         . q("version":");
}

sub doc {
    my ($self, $id, $name, $v, $lm) = @_;
    return $self->head($id, $name, $lm) . qq(W/\\"$v\\""}});
}

sub own_set {
    my ($self, $type, $id) = @_;
    return $self->key($type eq 'User' ? "User:$id:groups"
                                      : "Group:$id:members");
}

# create.lua: (type, id, name, externalId, display, manager, [member ids],
# [e-mails]) -> reply
sub create {
    my ($self, $type, $id, $name, %o) = @_;
    my $k = $self;
    my @add = @{ $o{members} // [] };
    my @em = @{ $o{emails} // [] };
    return $self->run('create',
        [$self->shared, $k->key("$type:$id"), $k->key("$type:ids"),
         $k->key('seq'),
         $k->key($type eq 'User' ? 'User:idx:userName'
                                 : 'Group:idx:displayName'),
         $k->key("$type:idx:externalId"), $self->own_set($type, $id)],
        $id, $self->head($id, $name), lc $name, $o{ext} // '',
        $o{display} // $name, $self->{p}, $type, $o{manager} // '',
        scalar(@add), @add, scalar(@em), @em);
}

sub user  { my $s = shift; $s->create('User', @_) }
sub group { my $s = shift; $s->create('Group', @_) }

1;
