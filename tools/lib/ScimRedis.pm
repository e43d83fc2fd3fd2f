package ScimRedis;

# A small RESP client for the tools (core Perl only): one connection per
# Redis address, AUTH and SELECT on connect, and Redis Cluster
# redirections (MOVED, ASK) followed by the hash tag of the key a command
# is about.
#
#   use FindBin; use lib "$FindBin::RealBin/lib"; use ScimRedis;
#   my $r = ScimRedis->new(host => ..., port => ..., socket => ...,
#                          password => ..., db => ...);
#   my $v = $r->cmd($key, 'HGET', $key, $field);   # routed by $key's {tag}
#   my $v = $r->cmd(undef, 'SCAN', 0);             # the first address
#
# A reply is a string, an integer, undef (nil) or [list]; an error reply
# dies with "Redis: <text>\n" (try(): returns {err => text} instead).
# A connection or protocol failure dies too.

use strict;
use warnings;

use IO::Socket::INET;
use IO::Socket::UNIX;

sub new {
    my ($class, %o) = @_;
    my $home = defined $o{socket} ? "unix:$o{socket}"
             : ($o{host} // '127.0.0.1') . ':' . ($o{port} // 6379);
    return bless { %o, home => $home, conn => {}, route => {} }, $class;
}

sub _connect {
    my ($self, $addr) = @_;
    return $self->{conn}{$addr} if $self->{conn}{$addr};

    my $sock;
    if ($addr =~ /^unix:(.*)$/) {
        $sock = IO::Socket::UNIX->new(Peer => $1);
    } else {
        my ($h, $p) = $addr =~ /^(.*):(\d+)$/ or die "bad address $addr\n";
        $h =~ s/^\[(.*)\]$/$1/;
        $sock = IO::Socket::INET->new(PeerAddr => $h, PeerPort => $p,
                                      Proto => 'tcp', Timeout => 5);
    }
    die "cannot connect to Redis at $addr: $!\n" unless $sock;
    binmode($sock);

    my $c = $self->{conn}{$addr} = { sock => $sock, buf => '' };

    for my $cmd (defined $self->{password} ? ['AUTH', $self->{password}] : (),
                 $self->{db} ? ['SELECT', $self->{db}] : ())
    {
        my $r = _send($c, @$cmd);
        die "$cmd->[0]: $r->{err}\n" if ref $r eq 'HASH';
    }
    return $c;
}

sub _fill {
    my $c = shift;
    my $n = sysread($c->{sock}, $c->{buf}, 65536, length $c->{buf});
    die "Redis closed the connection\n" unless $n;
}

sub _line {
    my $c = shift;
    my $i;
    _fill($c) while ($i = index($c->{buf}, "\r\n")) < 0;
    my $l = substr($c->{buf}, 0, $i);
    substr($c->{buf}, 0, $i + 2) = '';
    return $l;
}

sub _reply {
    my $c = shift;
    my $l = _line($c);
    my ($t, $v) = (substr($l, 0, 1), substr($l, 1));

    return $v if $t eq '+' || $t eq ':';
    return { err => $v } if $t eq '-';

    if ($t eq '$') {
        return undef if $v < 0;
        _fill($c) while length($c->{buf}) < $v + 2;
        my $s = substr($c->{buf}, 0, $v);
        substr($c->{buf}, 0, $v + 2) = '';
        return $s;
    }

    if ($t eq '*') {
        return undef if $v < 0;
        return [ map { _reply($c) } 1 .. $v ];
    }

    die "a reply Redis does not send: $l\n";
}

sub _send {
    my ($c, @cmd) = @_;
    my $req = '*' . @cmd . "\r\n";
    $req .= '$' . length($_) . "\r\n$_\r\n" for @cmd;
    my $off = 0;
    while ($off < length $req) {
        my $n = syswrite($c->{sock}, $req, length($req) - $off, $off);
        die "cannot write to Redis: $!\n" unless $n;
        $off += $n;
    }
    return _reply($c);
}

sub _tag { $_[0] =~ /\{([^}]*)\}/ ? $1 : $_[0] }

# a command about $key (undef: the first address), redirections followed;
# an error reply as {err => text}
sub try {
    my ($self, $key, @cmd) = @_;
    my $addr = defined $key ? $self->{route}{_tag($key)} // $self->{home}
                            : $self->{home};
    my $ask;

    for (1 .. 16) {
        my $c = $self->_connect($addr);
        _send($c, 'ASKING') if $ask;
        my $r = _send($c, @cmd);

        if (defined $key && ref $r eq 'HASH') {
            if ($r->{err} =~ /^MOVED \d+ (\S+)/) {
                $addr = $self->{route}{_tag($key)} = $1;
                $ask = 0;
                next;
            }
            if ($r->{err} =~ /^ASK \d+ (\S+)/) {
                $addr = $1;
                $ask = 1;
                next;
            }
        }
        return $r;
    }

    die "Redis: too many redirections\n";
}

sub cmd {
    my ($self, @a) = @_;
    my $r = $self->try(@a);
    die "Redis: $r->{err}\n" if ref $r eq 'HASH';
    return $r;
}

1;
