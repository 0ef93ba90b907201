#!/usr/bin/env python3
"""Generate tests/data/time_vectors.tsv: what Python's time.ctime() and
datetime.isoformat() print for fixed epochs under fixed TZ values. Run once;
the output is committed and read by the timefmt unit test.
Columns: TZ, epoch, ctime, iso8601 (with Z for a zero offset)."""
import datetime, os, time

ZONES = ["UTC", "Europe/Berlin", "America/St_Johns", "Asia/Kolkata", "Australia/Adelaide",
         "America/Los_Angeles", "Pacific/Chatham", "CET-1CEST,M3.5.0,M10.5.0/3", "EST5EDT,M3.2.0,M11.1.0",
         # POSIX strings beyond the common shape: southern rules, quoted names
         # with minutes, negative and >24 h change times, Julian days.
         "AEST-10AEDT,M10.1.0,M4.1.0/3", "<+0545>-5:45", "<-02>2<-01>,M3.5.0/-1,M10.5.0/0",
         "XST3XDT,J60/1:30,J300/25", "YST-3:30YDT-4:30,59/0,300/26", "Europe/London", "America/Sao_Paulo"]
EPOCHS = [0, 1, 59, 86399, 951782400, 951868800, 1078012800,  # 2000-02-29, 2000-03-01, 2004-02-29
          1711846799, 1711846800, 1711850400,                 # around the 2024 EU spring change
          1729990799, 1729990800, 1729994400,                 # around the 2024 EU autumn change
          1700000000, 1795478400, 2147483647, 2147483648,     # 2038 boundary
          4102444800, 4107542400, 253402128000,               # 2100, 2100-03-01, 9999-12-29
          -1, -86400, -2208988800, 1000000000, 1234567890,
          1772323200, 1774745999, 1774746000, 1792889999, 1792890000,  # 2026 EU changes
          1775404799, 1775404800, 1791129599, 1791129600,              # 2026 AU changes
          951825600, 983404800, 1798761599, 1798761600]                # Feb 29, new year 2027
out = []
for tz in ZONES:
    os.environ["TZ"] = tz
    time.tzset()
    for t in EPOCHS:
        c = time.ctime(t)
        iso = datetime.datetime.fromtimestamp(t).astimezone().isoformat()
        if iso.endswith("+00:00"):
            iso = iso[:-6] + "Z"
        out.append(f"{tz}\t{t}\t{c}\t{iso}")
path = os.path.join(os.path.dirname(__file__), "..", "tests", "data", "time_vectors.tsv")
with open(path, "w") as f:
    f.write("\n".join(out) + "\n")
print(len(out), "vectors")
