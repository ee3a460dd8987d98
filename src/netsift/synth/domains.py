"""The benign name space of the synthetic network: which registered domains exist, under which host names,
served by which provider, and what a resolver answers for each (name, type).

Popular real domains come in rank order (the Zipf popularity of :mod:`netsift.synth.traffic` follows this
order); a long tail of plausible small sites (local news, shops, SaaS) is generated from word lists with a
fixed seed, so every run sees the same names. Answers are a pure function of the name: the same name
always resolves to the same CNAME chain and addresses (hashed into the provider's real address blocks),
so a cache, a detector or a test sees stable infrastructure.
"""

from __future__ import annotations

import functools
import hashlib
import random
from dataclasses import dataclass

# --- registered domains, most popular first ---------------------------------------------------------

POPULAR = """
google.com googleapis.com gstatic.com microsoft.com apple.com icloud.com amazonaws.com windowsupdate.com
office.com live.com microsoftonline.com youtube.com googlevideo.com cloudfront.net akamaiedge.net
facebook.com facebook.net msftconnecttest.com office365.com github.com ytimg.com bing.com windows.net
fbcdn.net akadns.net cloudflare.com instagram.com whatsapp.net apple-dns.net skype.com msn.com
sharepoint.com outlook.com linkedin.com licdn.com amazon.com media-amazon.com netflix.com nflxvideo.net
spotify.com scdn.co slack.com slack-edge.com zoom.us dropbox.com adobe.com digicert.com lencr.org
mozilla.org mozilla.net firefox.com wikipedia.org wikimedia.org reddit.com redditmedia.com yahoo.com
yimg.com twitter.com x.com twimg.com githubusercontent.com githubassets.com gravatar.com wordpress.com
wp.com jsdelivr.net unpkg.com cloudflare-dns.com fastly.net fastly-insights.com azureedge.net azure.com
visualstudio.com vscode-cdn.net gvt1.com gvt2.com ggpht.com googleusercontent.com googletagmanager.com
recaptcha.net doubleclick.net google-analytics.com googlesyndication.com googleadservices.com
app-measurement.com crashlytics.com firebaseio.com gmail.com goo.gl youtube-nocookie.com android.com
ubuntu.com debian.org canonical.com snapcraft.io pypi.org pythonhosted.org python.org npmjs.org npmjs.com
docker.io docker.com gitlab.com atlassian.com atlassian.net bitbucket.org jira.com trello.com notion.so
figma.com miro.com zendesk.com intercom.io launchdarkly.com segment.io sentry.io datadoghq.com
newrelic.com nr-data.net hotjar.com mixpanel.com amplitude.com optimizely.com salesforce.com force.com
hubspot.com hs-scripts.com hsforms.com mailchimp.com list-manage.com sendgrid.net mailgun.org stripe.com
stripe.network paypal.com paypalobjects.com shopify.com myshopify.com shopifycdn.com ebay.com ebayimg.com
etsy.com etsystatic.com walmart.com target.com bestbuy.com ikea.com booking.com airbnb.com expedia.com
tripadvisor.com uber.com lyft.com doordash.com bbc.co.uk bbci.co.uk cnn.com nytimes.com theguardian.com
washingtonpost.com reuters.com apnews.com bloomberg.com wsj.com forbes.com espn.com weather.com
accuweather.com imdb.com twitch.tv ttvnw.net jtvnw.net discord.com discord.gg discordapp.com
discordapp.net tiktok.com tiktokcdn.com tiktokv.com byteoversea.com snapchat.com sc-cdn.net pinterest.com
pinimg.com tumblr.com quora.com medium.com substack.com stackoverflow.com stackexchange.com sstatic.net
duckduckgo.com brave.com opera.com samsung.com samsungcloud.com samsungapps.com xiaomi.com mi.com
huawei.com hicloud.com lg.com lgtvcommon.com roku.com rokutime.com hulu.com hulustream.com disneyplus.com
disney-plus.net dssott.com bamgrid.com primevideo.com aiv-cdn.net pv-cdn.net hbomax.com max.com plex.tv
plex.direct sonos.com ring.com amazonalexa.com philips-hue.com meethue.com nest.com tplinkcloud.com
tuya.com tuyaus.com ecobee.com steampowered.com steamcommunity.com steamstatic.com steamserver.net
epicgames.com unrealengine.com xboxlive.com xbox.com playstation.com playstation.net sony.com
nintendo.net nintendo.com ea.com riotgames.com blizzard.com battle.net whatsapp.com messenger.com
signal.org telegram.org t.me viber.com line.me office.net onenote.com onedrive.com 1drv.com sfx.ms
msedge.net microsoftstore.com xboxservices.com msauth.net msftauth.net msidentity.com azurewebsites.net
trafficmanager.net windows.com aka.ms gfx.ms s-microsoft.com apple.news mzstatic.com cdn-apple.com
aaplimg.com itunes.com icloud-content.com ntp.org cloudflareinsights.com quad9.net opendns.com
umbrella.com cisco.com webex.com okta.com oktacdn.com duosecurity.com auth0.com onelogin.com lastpass.com
1password.com bitwarden.com grammarly.com grammarly.io deepl.com openai.com chatgpt.com anthropic.com
claude.ai perplexity.ai canva.com
"""
POPULAR_DOMAINS: tuple[str, ...] = tuple(POPULAR.split())

# Ad and tracking hosts a Pi-hole gravity list blocks (exact host names, as gravity matches them).
GRAVITY_BLOCKED: frozenset[str] = frozenset("""
securepubads.g.doubleclick.net googleads.g.doubleclick.net ad.doubleclick.net stats.g.doubleclick.net
static.doubleclick.net www.google-analytics.com region1.google-analytics.com ssl.google-analytics.com
pagead2.googlesyndication.com tpc.googlesyndication.com www.googleadservices.com app-measurement.com
www.googletagmanager.com scribe.logs.roku.com adtago.s3.amazonaws.com static.hotjar.com
script.hotjar.com  api.mixpanel.com api2.amplitude.com cdn.segment.io
api.segment.io js-agent.newrelic.com bam.nr-data.net mobile.events.data.microsoft.com
browser.events.data.microsoft.com ib.adnxs.com match.adsrvr.org static.criteo.net
bidder.criteo.com cdn.taboola.com trc.taboola.com widgets.outbrain.com sb.scorecardresearch.com
z.moatads.com aax.amazon-adsystem.com c.amazon-adsystem.com fastlane.rubiconproject.com
hbopenbid.pubmatic.com u.openx.net ads.pubmatic.com ads.yahoo.com analytics.tiktok.com
""".split())

AD_DOMAINS: tuple[str, ...] = (
    "adnxs.com", "adsrvr.org", "criteo.net", "criteo.com", "taboola.com", "outbrain.com",
    "scorecardresearch.com", "moatads.com", "amazon-adsystem.com", "rubiconproject.com", "pubmatic.com",
    "openx.net", "events.data.microsoft.com",
)

# Host names for the best-known domains; others get generic prefixes. "" is the apex.
HOSTS: dict[str, tuple[str, ...]] = {
    "google.com": ("www", "accounts", "mail", "clients4", "clients1", "apis", "play", "ogs", "lh3",
                   "fonts", "calendar", "docs", "drive", "meet", "translate", "safebrowsing", "update",
                   "android", "connectivitycheck", "www"),
    "googleapis.com": ("www", "fonts", "ajax", "oauth2", "content-autofill", "safebrowsing",
                       "update", "storage", "firebaseinstallations", "play", "youtubei", "people-pa",
                       "android", "optimizationguide-pa", "clients6"),
    "gstatic.com": ("www", "fonts", "ssl", "csp", "encrypted-tbn0", "encrypted-tbn2", "connectivitycheck"),
    "microsoft.com": ("www", "login", "teams", "go", "settings-win.data", "v10.events.data",
                      "self.events.data", "fe3.delivery.mp", "tlu.dl.delivery.mp", "slscr.update",
                      "displaycatalog.mp", "licensing.mp", "arc.msn", "edge", "nav.smartscreen",
                      "smartscreen-prod", "wdcp", "wd.microsoft"),
    "apple.com": ("www", "gateway.icloud", "configuration", "gsa", "gs-loc", "init", "bag",
                  "mesu", "gdmf", "xp", "api-glb-use1c", "weather-data", "captive", "ocsp",
                  "valid", "time", "swscan", "identity"),
    "icloud.com": ("www", "p60-caldav", "p61-contacts", "gateway", "setup", "keyvalueservice",
                   "mask-api", "ckdatabasews"),
    "amazonaws.com": ("s3", "s3-w.us-east-1", "s3-us-west-2-w", "ec2.us-east-1", "sqs.us-east-1",
                      "dynamodb.us-east-1", "sts", "kinesis.us-east-1", "cognito-identity.us-east-1"),
    "windowsupdate.com": ("download", "ctldl", "au.download", "dl.delivery.mp"),
    "office.com": ("www", "outlook", "substrate", "res.cdn", "login", "config", "ecs", "officeclient"),
    "live.com": ("login", "outlook", "onedrive", "skyapi", "storage", "account"),
    "microsoftonline.com": ("login", "autologon", "device.login", "aadcdn"),
    "youtube.com": ("www", "m", "i", "youtubei", "music", "s", "accounts"),
    "office365.com": ("outlook", "attachments", "substrate", "nexus"),
    "github.com": ("", "api", "codeload", "collector", "alive", "education", "objects"),
    "githubusercontent.com": ("raw", "avatars", "objects", "user-images", "camo", "private-user-images"),
    "facebook.com": ("www", "graph", "edge-mqtt", "b-graph", "m", "star", "static.xx"),
    "facebook.net": ("connect", "star-mini.c10r"),
    "fbcdn.net": ("static.xx", "scontent.xx", "scontent-lhr8-1.xx", "video.xx", "external.xx"),
    "instagram.com": ("www", "i", "graph", "b.i", "scontent"),
    "whatsapp.net": ("g", "mmg", "media-lhr8-1.cdn", "pps", "static"),
    "cloudflare.com": ("www", "dash", "api", "cdnjs", "one"),
    "bing.com": ("www", "th", "r", "edgeservices", "api"),
    "windows.net": ("blob", "azureedge", "prod.do.dsp.mp", "wns", "client.wns", "msedge"),
    "skype.com": ("api", "config", "edge", "trouter"),
    "spotify.com": ("api", "apresolve", "spclient.wg", "open", "accounts", "login5", "audio-ak"),
    "netflix.com": ("www", "api-global", "ichnaea", "occ-0-1", "push", "assets"),
    "slack.com": ("app", "wss-primary", "edgeapi", "api", "files"),
    "zoom.us": ("zoom", "us04web", "us05web", "log", "api", "assets"),
    "dropbox.com": ("www", "thunder", "bolt", "client", "api", "content", "d"),
    "lencr.org": ("r10.o", "r11.o", "x1.c", "r10.c", "r11.c"),
    "digicert.com": ("ocsp", "crl3", "crl4", "cacerts"),
    "reddit.com": ("www", "gql", "oauth", "gateway", "old"),
    "mozilla.org": ("www", "addons", "incoming.telemetry", "push.services", "location.services"),
    "mozilla.net": ("firefox.settings.services", "content-signature-2.cdn", "aus5", "download-installer.cdn"),
    "wikipedia.org": ("en", "www", "de", "fr", "meta"),
    "wikimedia.org": ("upload", "meta", "login", "intake-analytics"),
    "msftconnecttest.com": ("www", "ipv6"),
    "doubleclick.net": ("securepubads.g", "googleads.g", "ad", "stats.g", "static"),
    "google-analytics.com": ("www", "region1", "ssl"),
    "googlesyndication.com": ("pagead2", "tpc"),
    "googleadservices.com": ("www",),
    "app-measurement.com": ("",),
    "googletagmanager.com": ("www",),
    "roku.com": ("scribe.logs", "api", "captive", "cooper.logs", "image"),
    "hotjar.com": ("static", "script", "in"),
    "mixpanel.com": ("api-js", "api", "cdn"),
    "amplitude.com": ("api2", "cdn"),
    "segment.io": ("cdn", "api"),
    "newrelic.com": ("js-agent",),
    "nr-data.net": ("bam", "bam-cell"),
    "akadns.net": ("us-sandbox-courier-4.push-apple.com", "weather-data.apple.com", "mesu-cdn.apple.com",
                   "login.live.com", "iphone-ld.apple.com"),
    "trafficmanager.net": ("www-www.bing.com", "atm-settingsfe-prod-geo2", "onedscolprdeus01"),
    "azureedge.net": ("az764295", "fpc.msedge", "officecdn-microsoft-com"),
    "azurewebsites.net": ("contoso-portal", "timesheet-prod", "hr-forms"),
    "myshopify.com": ("cedarbrook-books", "tinyowl-crafts"),
    "msedge.net": ("c-ring", "config.edge", "l-ring", "assets"),
    "ubuntu.com": ("archive", "security", "api.snapcraft", "changelogs", "esm", "motd", "ntp"),
    "debian.org": ("deb", "security", "ftp.us", "cdn-fastly.deb"),
    "pypi.org": ("", "upload"),
    "pythonhosted.org": ("files",),
    "docker.io": ("registry-1", "auth", "index", "production.cloudflare"),
    "docker.com": ("hub", "desktop", "registry"),
    "npmjs.org": ("registry",),
    "ntp.org": ("0.pool", "1.pool", "2.pool", "3.pool", "0.debian.pool", "1.debian.pool"),
    "launchdarkly.com": ("events", "app", "clientstream", "mobile"),
    "intercom.io": ("api-iam", "widget", "nexus-websocket-a"),
    "zendesk.com": ("pod-29", "grafana", "static", "support"),
    "apple-dns.net": ("gateway.fe2", "mask-api.fe2", "api.apple-cloudkit.fe2"),
    "aaplimg.com": ("sylvan.g", "world-gen.g"),
    "cdn-apple.com": ("updates", "swcdn", "appldnld", "is1-ssl.mzstatic"),
    "mzstatic.com": ("is1-ssl", "is2-ssl", "is3-ssl", "is4-ssl", "s"),
    "tiktokv.com": ("api16-normal-c-useast1a", "log16-normal-c-useast1a", "mon"),
    "tiktok.com": ("www", "analytics", "mcs", "webcast"),
}

# Names whose real CNAME chains are well known; the last element's addresses come from the provider.
CHAINS: dict[str, tuple[str, ...]] = {
    "www.youtube.com": ("youtube-ui.l.google.com",),
    "youtubei.googleapis.com": ("youtube-ui.l.google.com",),
    "www.microsoft.com": ("www.microsoft.com-c-3.edgekey.net",
                          "www.microsoft.com-c-3.edgekey.net.globalredir.akadns.net",
                          "e13678.dscb.akamaiedge.net"),
    "login.microsoftonline.com": ("login.mso.msidentity.com", "ak.privatelink.msidentity.com",
                                  "www.tm.ak.prd.aadg.trafficmanager.net"),
    "www.apple.com": ("www.apple.com.edgekey.net", "e6858.dscx.akamaiedge.net"),
    "thunder.dropbox.com": ("bolt.v.dropbox.com",),
    "www.bing.com": ("www-www.bing.com.trafficmanager.net", "www.bing.com.edgekey.net",
                     "e86303.dscx.akamaiedge.net"),
    "outlook.office365.com": ("outlook.ms-acdc.office.com",),
    "outlook.office.com": ("outlook.ms-acdc.office.com",),
    "www.netflix.com": ("www.dradis.netflix.com", "www.us-west-2.internal.dradis.netflix.com",
                        "apiproxy-website-nlb-prod-3-c2ec3e8a6e3d4a1b.elb.us-west-2.amazonaws.com"),
    "weather-data.apple.com": ("weather-data.apple.com.akadns.net", "weather-data.apple.com.akamaized.net",
                               "a2047.dscapi9.akamai.net"),
    "mesu.apple.com": ("mesu-cdn.apple.com.akadns.net", "mesu.g.aaplimg.com"),
    "updates.cdn-apple.com": ("updates.cdn-apple.com.akadns.net", "updates-http.cdn-apple.com.akadns.net",
                              "e673.dsce9.akamaiedge.net"),
    "fe3.delivery.mp.microsoft.com": ("glb.cws.prod.dcat.dsp.mp.microsoft.com",
                                      "onedscolprdcus05.centralus.cloudapp.azure.com"),
    "download.windowsupdate.com": ("download.windowsupdate.com.edgesuite.net", "a767.dspw65.akamai.net"),
    "settings-win.data.microsoft.com": ("atm-settingsfe-prod-geo2.trafficmanager.net",
                                        "settings-prod-wus2-2.westus2.cloudapp.azure.com"),
    "www.msftconnecttest.com": ("www.msftncsi.com.edgesuite.net", "a1961.g2.akamai.net"),
    "edgeapi.slack.com": ("prod-haproxy-edge-nlb-eip-3f4c246e4b1ed994.elb.us-east-1.amazonaws.com",),
    "github.com": (),
}

# Where each provider's addresses come from: IPv4 (first, second octet choices), IPv6 template, TTL.
_V4 = {
    "google": ((142, (250, 251)), (172, (217,)), (216, (58,)), (142, (251,))),
    "microsoft": ((13, (107,)), (20, (42, 190, 189, 44)), (40, (126, 79, 99)), (52, (96, 109, 113))),
    "apple": ((17, (253, 248, 250, 36)),),
    "akamai": ((23, (32, 33, 36, 40, 44, 55, 62)), (104, (64, 86, 96, 122)), (2, (16, 17, 18))),
    "aws": ((52, (1, 20, 54, 84, 202, 206)), (54, (84, 144, 230, 235)), (3, (5, 33, 91, 210)),
            (18, (64, 160, 207))),
    "cloudfront": ((13, (224, 225, 226, 227, 32, 33)), (18, (64, 65, 66, 154, 238)), (54, (230, 192))),
    "cloudflare": ((104, (16, 17, 18, 19, 20, 21)), (172, (64, 65, 66, 67)), (188, (114,))),
    "fastly": ((151, (101,)), (199, (232,))),
    "meta": ((157, (240,)), (31, (13,)), (163, (70,))),
    "generic": ((5, (9, 39, 161)), (37, (120, 187)), (45, (33, 55, 79)), (64, (227, 190)),
                (66, (96, 147)), (69, (163,)), (78, (46, 47)), (81, (169,)), (85, (13,)),
                (91, (195,)), (93, (184,)), (95, (216,)), (107, (180,)), (109, (70,)),
                (162, (159, 241)), (167, (99,)), (185, (199, 230)), (192, (124,)), (198, (185,)),
                (209, (17,)), (212, (227,)), (217, (160,))),
}
_V6 = {
    "google": "2607:f8b0:4005:8{a:02x}::20{b:02x}",
    "microsoft": "2620:1ec:{a:x}::{b:x}",
    "apple": "2620:149:a{a:02x}:{b:x}00::1",
    "akamai": "2600:1406:{a:x}00::17{b:02x}:{a:x}",
    "cloudflare": "2606:4700::6810:{a:x}{b:02x}",
    "fastly": "2a04:4e42:{a:x}00::{b:x}",
    "meta": "2a03:2880:f1{a:02x}:83:face:b00c:0:25de",
    "cloudfront": "2600:9000:{a:x}{b:02x}:4a00:1c:53b8:6e40:93a1",
}
_TTL = {"google": 300, "microsoft": 60, "apple": 120, "akamai": 20, "aws": 60, "cloudfront": 60,
        "cloudflare": 300, "fastly": 30, "meta": 60, "generic": 3600, "local": 1200}
_ANSWERS = {"google": 1, "microsoft": 2, "apple": 2, "akamai": 2, "aws": 3, "cloudfront": 4,
            "cloudflare": 2, "fastly": 4, "meta": 1, "generic": 1}

_PROVIDER_BY_DOMAIN = {
    "google": "google.com googleapis.com gstatic.com youtube.com googlevideo.com ytimg.com gvt1.com gvt2.com "
              "ggpht.com googleusercontent.com googletagmanager.com recaptcha.net doubleclick.net "
              "google-analytics.com googlesyndication.com googleadservices.com app-measurement.com "
              "crashlytics.com firebaseio.com gmail.com goo.gl youtube-nocookie.com android.com",
    "microsoft": "microsoft.com windowsupdate.com office.com live.com microsoftonline.com msftconnecttest.com "
                 "office365.com bing.com windows.net skype.com msn.com sharepoint.com outlook.com "
                 "linkedin.com licdn.com azure.com visualstudio.com vscode-cdn.net azureedge.net "
                 "office.net onenote.com onedrive.com 1drv.com sfx.ms msedge.net microsoftstore.com "
                 "xboxservices.com msauth.net msftauth.net msidentity.com azurewebsites.net "
                 "trafficmanager.net windows.com aka.ms gfx.ms s-microsoft.com xboxlive.com xbox.com "
                 "github.com githubusercontent.com githubassets.com events.data.microsoft.com",
    "apple": "apple.com icloud.com apple-dns.net apple.news mzstatic.com aaplimg.com itunes.com "
             "icloud-content.com",
    "akamai": "akamaiedge.net akadns.net cdn-apple.com adobe.com ebay.com ebayimg.com booking.com "
              "playstation.com playstation.net sony.com samsung.com hulu.com disneyplus.com",
    "aws": "amazonaws.com amazon.com media-amazon.com netflix.com nflxvideo.net slack.com zoom.us "
           "dropbox.com atlassian.net zendesk.com intercom.io launchdarkly.com segment.io datadoghq.com "
           "hubspot.com stripe.com primevideo.com ring.com amazonalexa.com snapchat.com twitch.tv "
           "roku.com tiktokv.com epicgames.com",
    "cloudfront": "cloudfront.net aiv-cdn.net pv-cdn.net sc-cdn.net",
    "cloudflare": "cloudflare.com cloudflare-dns.com discord.com discordapp.com discord.gg medium.com "
                  "notion.so canva.com openai.com chatgpt.com claude.ai anthropic.com perplexity.ai "
                  "cloudflareinsights.com npmjs.org npmjs.com jsdelivr.net unpkg.com sentry.io "
                  "substack.com shopify.com myshopify.com figma.com",
    "fastly": "fastly.net fastly-insights.com reddit.com redditmedia.com twitter.com x.com twimg.com "
              "pypi.org pythonhosted.org python.org nytimes.com theguardian.com bbc.co.uk bbci.co.uk "
              "wikipedia.org wikimedia.org spotify.com scdn.co githubassets.com stackoverflow.com "
              "sstatic.net etsy.com debian.org docker.io gitlab.com",
    "meta": "facebook.com facebook.net fbcdn.net instagram.com whatsapp.net whatsapp.com messenger.com",
}
PROVIDER: dict[str, str] = {d: p for p, ds in _PROVIDER_BY_DOMAIN.items() for d in ds.split()}

# The office's Active Directory zone (answered authoritatively by the Windows DNS server).
LOCAL_ZONE = "corp.lan"
LOCAL_HOSTS: dict[str, str] = {
    "dc01.corp.lan": "10.0.0.2", "dc02.corp.lan": "10.0.0.4", "ns1.corp.lan": "10.0.0.3",
    "print01.corp.lan": "10.0.0.5", "fs01.corp.lan": "10.0.1.10", "mail.corp.lan": "10.0.1.11",
    "www.corp.lan": "10.0.1.12", "jump01.corp.lan": "10.0.1.13", "intranet.corp.lan": "10.0.1.14",
    "corp.lan": "10.0.0.2",
}
LOCAL_SRV: dict[str, tuple[str, ...]] = {
    "_ldap._tcp.dc._msdcs.corp.lan": ("dc01.corp.lan", "dc02.corp.lan"),
    "_ldap._tcp.default-first-site-name._sites.dc._msdcs.corp.lan": ("dc01.corp.lan", "dc02.corp.lan"),
    "_kerberos._tcp.corp.lan": ("dc01.corp.lan", "dc02.corp.lan"),
    "_ldap._tcp.pdc._msdcs.corp.lan": ("dc01.corp.lan",),
}

# --- a long tail of small benign sites ----------------------------------------------------------------

_PLACES = ("riverside oakdale millbrook lakeview fairhaven northvalley westbury eastfield pinecrest "
           "maplewood cedarbrook stonebridge harborview elmwood brookfield clearwater ashford greenhill "
           "silverlake redwood sunnyvale bayside highland meadowbrook kingsport").split()
_NEWS = "gazette herald tribune chronicle courier observer post dispatch times ledger sentinel".split()
_SHOP = ("outfitters supply market goods boutique hardware bikes books coffee bakery garden pets "
         "florist optics tools kitchen crafts records toys").split()
_ADJ = "oakandpine bluefox northstar tinyowl greenleaf ironwood goldencrust happypaws urban little".split()
_SAAS1 = ("team flow desk stack base pilot sync metric form note task shift pay invoice roster ticket "
          "lead chart doc sign board").split()
_SAAS2 = "hq ly app hub io cloud labs works suite ify".split()


@functools.cache
def long_tail(count: int = 300) -> tuple[tuple[str, str], ...]:
    """``count`` plausible small-site registered domains as (domain, category), always the same."""
    rng = random.Random("netsift-long-tail")
    out: dict[str, str] = {}
    while len(out) < count:
        kind = rng.random()
        if kind < 0.3:
            place, news = rng.choice(_PLACES), rng.choice(_NEWS)
            name = f"{place}{'-' if rng.random() < 0.4 else ''}{news}.{rng.choice(('com', 'com', 'org', 'co.uk'))}"
            cat = "news"
        elif kind < 0.65:
            a = rng.choice(_ADJ + _PLACES)
            name = f"{a}{'-' if rng.random() < 0.5 else ''}{rng.choice(_SHOP)}.{rng.choice(('com', 'com', 'shop', 'co.uk', 'de'))}"
            cat = "shop"
        else:
            a, b = rng.choice(_SAAS1), rng.choice(_SAAS2)
            style = rng.random()
            if style < 0.4:
                name = f"{a}{b}.{rng.choice(('io', 'com', 'app'))}"
            elif style < 0.7:
                name = f"get{a}{b}.com"
            else:
                name = f"{a}{rng.choice(_SAAS1)}.{rng.choice(('io', 'com', 'co'))}"
            cat = "saas"
        out.setdefault(name, cat)
    return tuple(out.items())


_TAIL_PREFIXES = {
    "news": ("www", "www", "www", "", "static", "img", "cdn", "ads"),
    "shop": ("www", "www", "", "cdn", "checkout", "images"),
    "saas": ("app", "app", "www", "api", "", "auth", "cdn", "ws"),
}
_GENERIC_PREFIXES = ("www", "www", "www", "", "api", "static", "cdn", "img")


@dataclass(frozen=True)
class Domain:
    name: str
    provider: str
    category: str  # popular | tail-news | tail-shop | tail-saas | ad
    hosts: tuple[str, ...]


def _stable(*parts: object) -> int:
    return int.from_bytes(hashlib.blake2b("|".join(map(str, parts)).encode(), digest_size=8).digest(), "big")


def _provider_for(domain: str) -> str:
    if domain in PROVIDER:
        return PROVIDER[domain]
    r = _stable("provider", domain) % 100
    return "cloudflare" if r < 35 else "aws" if r < 60 else "fastly" if r < 65 else "akamai" if r < 70 else "generic"


def _pool(domain: str) -> tuple[str, ...]:
    """Generated host names of the big CDNs: googlevideo, cloudfront, akamaiedge."""
    rng = random.Random(f"pool-{domain}")
    alnum = "abcdefghijklmnopqrstuvwxyz0123456789"
    if domain == "googlevideo.com":
        return tuple(f"rr{rng.randint(1, 6)}---sn-{''.join(rng.choice('4567aeglnrsuyz') for _ in range(8))}"
                     f".googlevideo.com" if rng.random() < 0.3 else
                     f"r{rng.randint(1, 9)}---sn-{''.join(rng.choice('4567aeglnrsuyz') for _ in range(8))}"
                     f".googlevideo.com" for _ in range(40))
    if domain == "cloudfront.net":
        return tuple(f"d{''.join(rng.choice(alnum) for _ in range(13))}.cloudfront.net" for _ in range(60))
    if domain == "akamaiedge.net":
        return tuple(f"e{rng.randint(100, 99999)}.{rng.choice(('a', 'b', 'dscb', 'dsca', 'dscx', 'dscd'))}"
                     f".akamaiedge.net" for _ in range(30))
    return ()


@functools.cache
def catalog() -> tuple[Domain, ...]:
    """All benign registered domains, popular ones first in rank order, then the long tail."""
    out: list[Domain] = []
    for d in POPULAR_DOMAINS:
        prov = _provider_for(d)
        hosts = _pool(d) or tuple(f"{p}.{d}" if p else d for p in HOSTS.get(d, _GENERIC_PREFIXES))
        out.append(Domain(d, prov, "ad" if all(h in GRAVITY_BLOCKED for h in hosts) else "popular", hosts))
    for d in AD_DOMAINS:
        hosts = tuple(h for h in sorted(GRAVITY_BLOCKED) if h.endswith("." + d)) or (f"www.{d}",)
        out.append(Domain(d, _provider_for(d), "ad", hosts))
    for d, cat in long_tail():
        out.append(Domain(d, _provider_for(d), f"tail-{cat}",
                          tuple(f"{p}.{d}" if p else d for p in _TAIL_PREFIXES[cat])))
    return tuple(out)


@functools.cache
def host_index() -> dict[str, Domain]:
    """Host name -> its Domain; registered domains map to themselves too (for MX / TXT lookups)."""
    index = {d.name: d for d in catalog()}
    index.update({h: d for d in catalog() for h in d.hosts})
    return index


# --- answers --------------------------------------------------------------------------------------------

def ttl_for(name: str) -> int:
    dom = host_index().get(name)
    if name.endswith("." + LOCAL_ZONE) or name == LOCAL_ZONE:
        return _TTL["local"]
    return _TTL[dom.provider] if dom else 300


def ipv4(provider: str, key: str, count: int) -> list[str]:
    blocks = _V4.get(provider, _V4["generic"])
    h = _stable("v4", provider, key)
    first, seconds = blocks[h % len(blocks)]
    second = seconds[(h >> 8) % len(seconds)]
    third = (h >> 16) % 256
    base = (h >> 24) % 250 + 2
    if provider == "fastly":  # Fastly's four-address answers: .1 .65 .129 .193 of one /24
        return [f"{first}.{second}.{third}.{64 * i + 1}" for i in range(count)]
    return [f"{first}.{second}.{third}.{(base + 37 * i) % 252 + 2}" for i in range(count)]


def ipv6(provider: str, key: str, count: int) -> list[str]:
    template = _V6[provider]
    h = _stable("v6", provider, key)
    return [template.format(a=(h >> (8 * i)) % 255 + 1, b=(h >> (8 * i + 4)) % 200 + 10) for i in range(count)]


def _mail_host(name: str) -> Domain | None:
    """Mail exchangers named in MX answers (mx1.<domain>, smtp.google.com, ...mail.protection.outlook.com)."""
    first, _, parent = name.partition(".")
    if first in ("mx1", "mx2", "smtp") and parent in host_index():
        return Domain(name, host_index()[parent].provider, "mail", (name,))
    if name.endswith(".mail.protection.outlook.com"):
        return Domain(name, "microsoft", "mail", (name,))
    return None


def _chain(name: str, dom: Domain) -> tuple[str, ...]:
    if name in CHAINS:
        return CHAINS[name]
    h = _stable("chain", name)
    prov = dom.provider
    label = dom.name.split(".")[0]
    if prov == "akamai" and h % 3:
        return (f"{name}.edgekey.net", f"e{h % 90000 + 100}.{('a', 'b', 'dscb', 'dscx')[h % 4]}.akamaiedge.net")
    if prov == "aws" and h % 5 < 2 and dom.category != "ad":
        region = ("us-east-1", "eu-west-1", "us-west-2")[h % 3]
        return (f"{label}-{(h >> 5) % 900000000 + 100000000}.{region}.elb.amazonaws.com",)
    if prov == "fastly" and h % 2:
        return (f"{'dualstack.' if h % 4 == 1 else ''}{label}.map.fastly.net",)
    if prov == "cloudfront" and not name.endswith(".cloudfront.net"):
        alnum = "abcdefghijklmnopqrstuvwxyz0123456789"
        return ("d" + "".join(alnum[(h >> (5 * i)) % 36] for i in range(13)) + ".cloudfront.net",)
    if dom.category.startswith("tail") and name.startswith("www.") and h % 3 == 0:
        return (dom.name,)
    return ()


def _final_provider(chain: tuple[str, ...], provider: str) -> str:
    last = chain[-1] if chain else ""
    if "akamai" in last or "edgekey" in last or "edgesuite" in last:
        return "akamai"
    if last.endswith(".elb.amazonaws.com"):
        return "aws"
    if last.endswith(".cloudfront.net"):
        return "cloudfront"
    if last.endswith(".fastly.net"):
        return "fastly"
    if last.endswith(("cloudapp.azure.com", "trafficmanager.net", "office.com", "msidentity.com")):
        return "microsoft"
    return provider


def resolve(name: str, qtype: str) -> tuple[str, list[str] | None]:
    """(response code, answers) a recursive resolver returns for a benign name. Answers list a CNAME
    chain first, then addresses (as Zeek does); None when there is no answer (NXDOMAIN, NODATA)."""
    if name.endswith("." + LOCAL_ZONE) or name == LOCAL_ZONE:
        if qtype == "SRV":
            return ("NOERROR", list(LOCAL_SRV[name])) if name in LOCAL_SRV else ("NXDOMAIN", None)
        if name in LOCAL_HOSTS:
            return ("NOERROR", [LOCAL_HOSTS[name]]) if qtype == "A" else ("NOERROR", None)
        return "NXDOMAIN", None
    if name.endswith(".in-addr.arpa"):
        return reverse(name)
    dom = host_index().get(name.removeprefix("_dmarc.")) or _mail_host(name)
    if dom is None:
        return "NXDOMAIN", None
    chain = _chain(name, dom)
    prov = _final_provider(chain, dom.provider)
    count = 1 + _stable("n", name) % _ANSWERS.get(prov, 1)
    if qtype == "A":
        return "NOERROR", [*chain, *ipv4(prov, chain[-1] if chain else name, count)]
    if qtype == "AAAA":
        has_v6 = prov in _V6 and (prov != "cloudfront" or _stable("v6?", name) % 2 == 0)
        addrs = ipv6(prov, chain[-1] if chain else name, min(count, 2)) if has_v6 else []
        return "NOERROR", ([*chain, *addrs] or None)
    if qtype == "MX":
        if dom.provider == "google":
            return "NOERROR", ["smtp.google.com"]
        if dom.provider == "microsoft":
            return "NOERROR", [f"{dom.name.replace('.', '-')}.mail.protection.outlook.com"]
        return "NOERROR", [f"mx1.{dom.name}", f"mx2.{dom.name}"]
    if qtype == "TXT":
        if name.startswith("_dmarc."):
            return "NOERROR", [f"v=DMARC1; p=quarantine; rua=mailto:dmarc@{dom.name}"]
        return "NOERROR", [f"v=spf1 include:_spf.{dom.name} ~all"]
    return "NOERROR", (list(chain) or None)  # HTTPS, SRV, ...: the chain if any, else NODATA


_WELL_KNOWN_PTR = {"8.8.8.8": "dns.google", "8.8.4.4": "dns.google", "1.1.1.1": "one.one.one.one",
                   "9.9.9.9": "dns9.quad9.net", "208.67.222.222": "dns.opendns.com"}


def reverse_name(ip: str) -> str:
    return ".".join(reversed(ip.split("."))) + ".in-addr.arpa"


def reverse(arpa: str) -> tuple[str, list[str] | None]:
    """PTR answer for an in-addr.arpa name: local hosts, cloud-style names for some, NXDOMAIN for most."""
    octets = arpa.removesuffix(".in-addr.arpa").split(".")
    if len(octets) != 4 or not all(o.isdigit() for o in octets):
        return "NXDOMAIN", None
    ip = ".".join(reversed(octets))
    if ip in _WELL_KNOWN_PTR:
        return "NOERROR", [_WELL_KNOWN_PTR[ip]]
    local = {v: k for k, v in LOCAL_HOSTS.items() if k != LOCAL_ZONE}
    if ip in local:
        return "NOERROR", [local[ip]]
    if ip.startswith(("10.", "192.168.")):
        return "NXDOMAIN", None
    a, b, c, d = ip.split(".")
    h = _stable("ptr", ip) % 10
    if a in ("142", "172", "216") and h < 8:
        return "NOERROR", [f"lhr25s{h + 10}-in-f{d}.1e100.net"]
    if a in ("52", "54", "3", "18") and h < 8:
        return "NOERROR", [f"ec2-{a}-{b}-{c}-{d}.compute-1.amazonaws.com"]
    if h < 2:
        return "NOERROR", [f"static.{d}.{c}.{b}.{a}.clients.your-server.de"]
    if h < 3:
        return "NOERROR", [f"{d}.{c}.{b}.{a}.bc.googleusercontent.com"]
    return "NXDOMAIN", None
