# Varnish in front of the formulary (Debian: varnish + varnish-modules for xkey).
#
#   varnishd -a :6081 -f config/varnish/default.vcl -s malloc,256m
#   VARNISH_PURGE_URL=http://127.0.0.1:6081/   (for the app servers)
#
# Caches anonymous GETs of the API for as long as the app's Surrogate-Control allows, passes
# everything else (authenticated requests, writes, the admin), and removes answers by tag when
# the app sends `PURGE` with an `xkey` header after a write commits. The backend below is the
# app server of `make demo`; change host and port for yours (the tests and bench/ rewrite them).

vcl 4.1;

import std;
import xkey;

backend default {
    .host = "127.0.0.1";
    .port = "8000";
    .connect_timeout = 2s;
    .first_byte_timeout = 30s;
}

# Who may purge: the app servers. Add their addresses here.
acl purgers {
    "127.0.0.1";
    "::1";
}

sub vcl_recv {
    if (req.method == "PURGE") {
        if (client.ip !~ purgers) {
            return (synth(403, "Forbidden"));
        }
        if (!req.http.xkey) {
            return (synth(400, "A purge names its tags in the xkey header"));
        }
        # A hard purge: the answers are gone, so no stale copy of a written answer is served
        # (grace applies only to answers that merely aged out).
        set req.http.purged = xkey.purge(req.http.xkey);
        return (synth(200, "Purged " + req.http.purged));
    }
    if (req.method != "GET" && req.method != "HEAD") {
        set req.http.x-cache-pass = "1";
        return (pass);
    }
    # A token may see what the public may not (drafts): never from or into the shared cache.
    if (req.http.Authorization || req.url !~ "^/api/") {
        set req.http.x-cache-pass = "1";
        return (pass);
    }
    # The benchmark's uncached requests go to the app as they came.
    if (req.http.X-Cache-Bypass) {
        set req.http.x-cache-pass = "1";
        return (pass);
    }
    # API reads authenticate by token only; a cookie (an admin session) changes nothing.
    unset req.http.Cookie;
    # The app answers in Dutch or English and varies on Accept-Language: one variant each.
    if (req.http.Accept-Language ~ "^\s*en") {
        set req.http.Accept-Language = "en";
    } elsif (req.http.Accept-Language ~ "(^|,)\s*en" && req.http.Accept-Language !~ "(^|,)\s*nl") {
        set req.http.Accept-Language = "en";
    } else {
        set req.http.Accept-Language = "nl";
    }
    return (hash);
}

sub vcl_backend_response {
    # The app says what the edge may keep, in Surrogate-Control (sent only when it purges);
    # Cache-Control is for browsers and caches it cannot purge.
    if (beresp.status == 200 && beresp.http.Surrogate-Control ~ "max-age=[0-9]+") {
        set beresp.ttl = std.duration(
            regsub(beresp.http.Surrogate-Control, "^.*max-age=([0-9]+).*$", "\1s"), 0s);
        if (beresp.http.Surrogate-Control ~ "stale-while-revalidate=[0-9]+") {
            set beresp.grace = std.duration(
                regsub(beresp.http.Surrogate-Control,
                       "^.*stale-while-revalidate=([0-9]+).*$", "\1s"), 0s);
        } else {
            set beresp.grace = 0s;
        }
        unset beresp.http.Surrogate-Control;
        # Kept compressed: a webshop's client asks for gzip (compounds/ is 450 kB as JSON,
        # about a tenth of that compressed); Varnish unpacks it for a client that does not.
        if (beresp.http.Content-Type ~ "json") {
            set beresp.do_gzip = true;
        }
        return (deliver);
    }
    # Anything else is not kept; remembered as such for a while so requests are not queued.
    set beresp.uncacheable = true;
    set beresp.ttl = 60s;
    return (deliver);
}

sub vcl_deliver {
    if (req.http.x-cache-pass) {
        set resp.http.X-Cache = "PASS";
    } elsif (obj.hits > 0) {
        set resp.http.X-Cache = "HIT";
    } else {
        set resp.http.X-Cache = "MISS";
    }
    # The tags are for this cache only.
    unset resp.http.xkey;
    unset resp.http.Surrogate-Key;
}
