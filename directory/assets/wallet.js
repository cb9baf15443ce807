// The directory's wallet: connects a Tezos wallet through Beacon and runs
// the pages' actions. Each action is a form `form.action[data-op=KIND]`
// whose fields are the operation's (docs/wallets.md); this script asks the
// directory to build it, shows the words the wallet will show, asks the
// wallet to sign those words (Beacon's requestSignPayload, MICHELINE),
// relays the signature, follows the operation to its receipt and reloads
// the page once it is applied. Nothing here encodes an operation: the
// directory does, with the kernel's own code.
//
// The wallet client is Beacon's DAppClient, or any object with its
// requestPermissions and requestSignPayload that a page embedding wallet
// provides as `window.pledgerollWalletClient`.
(function () {
  "use strict";

  var ACCOUNT_KEY = "pledgeroll.account";
  var RECEIPT_WAIT_MS = 120000;
  var RECEIPT_POLL_MS = 1000;

  var client = null;

  function byId(id) {
    return document.getElementById(id);
  }

  // The connected account, `{address, publicKey}`, kept for this tab.
  function account() {
    try {
      return JSON.parse(window.sessionStorage.getItem(ACCOUNT_KEY) || "null");
    } catch (e) {
      return null;
    }
  }

  function remember(a) {
    if (a) {
      window.sessionStorage.setItem(ACCOUNT_KEY, JSON.stringify(a));
    } else {
      window.sessionStorage.removeItem(ACCOUNT_KEY);
    }
  }

  // An error whose message is for the person at the page.
  function Trouble(message) {
    var e = new Error(message);
    e.trouble = true;
    return e;
  }

  function walletClient() {
    if (client) {
      return client;
    }
    if (window.pledgerollWalletClient) {
      client = window.pledgerollWalletClient;
      return client;
    }
    if (!window.beacon || !window.beacon.DAppClient) {
      throw Trouble(
        "No wallet could be reached: the Beacon wallet library did not load. Reload the page; " +
          "if it persists, install a Tezos wallet such as Temple, Kukai, Umami or AirGap."
      );
    }
    var bar = byId("wallet");
    var network = (bar && bar.dataset.network) || "mainnet";
    client = new window.beacon.DAppClient({
      name: "pledgeroll directory",
      preferredNetwork: network,
      network: { type: network },
    });
    return client;
  }

  function micheline() {
    var b = window.beacon;
    return (b && b.SigningType && b.SigningType.MICHELINE) || "micheline";
  }

  // Whether `e` is the wallet saying the person declined.
  function declined(e) {
    var type = e && (e.errorType || (e.error && e.error.errorType));
    return (
      type === "ABORTED_ERROR" ||
      type === "NOT_GRANTED_ERROR" ||
      (e && (e.name === "AbortedBeaconError" || e.name === "NotGrantedBeaconError"))
    );
  }

  function say(el, text, kind) {
    if (!el) {
      return;
    }
    el.textContent = text;
    el.dataset.kind = kind || "info";
  }

  // `path` answered as JSON; an error answer becomes a Trouble with its words.
  async function api(method, path, body) {
    var response;
    try {
      response = await fetch(path, {
        method: method,
        headers: body ? { "Content-Type": "application/json" } : {},
        body: body ? JSON.stringify(body) : undefined,
        credentials: "same-origin",
      });
    } catch (e) {
      throw Trouble("The directory cannot be reached; check your connection and try again.");
    }
    var answer = null;
    try {
      answer = await response.json();
    } catch (e) {
      answer = null;
    }
    if (!response.ok) {
      var message = (answer && answer.error) || "the directory answered " + response.status;
      var err = Trouble(message);
      err.status = response.status;
      throw err;
    }
    return answer;
  }

  // Shows the connected account, and the forms meant for it.
  function render() {
    var a = account();
    var bar = byId("wallet");
    if (!bar) {
      return;
    }
    bar.hidden = false;
    byId("wallet-connect").hidden = !!a;
    byId("wallet-account").hidden = !a;
    if (a) {
      var link = byId("wallet-address");
      link.textContent = a.address;
      link.href = "/patrons/" + a.address;
      byId("wallet-pledges").href = "/patrons/" + a.address;
      byId("wallet-studio").href = "/studio/" + a.address;
    }
    document.querySelectorAll("[data-needs-wallet]").forEach(function (el) {
      var allowed = (el.dataset.for || "").split(" ").filter(Boolean);
      el.hidden = !a || (allowed.length > 0 && allowed.indexOf(a.address) < 0);
    });
    document.querySelectorAll("[data-without-wallet]").forEach(function (el) {
      el.hidden = !!a;
    });
  }

  async function connect() {
    var status = byId("wallet-message");
    say(status, "Asking your wallet to connect…");
    try {
      var granted = await walletClient().requestPermissions();
      var info = granted.accountInfo || granted;
      var address = granted.address || info.address;
      var publicKey = granted.publicKey || info.publicKey;
      if (!address) {
        throw Trouble("The wallet did not say which account it connected.");
      }
      remember({ address: address, publicKey: publicKey || null });
      say(status, "");
      render();
    } catch (e) {
      if (declined(e)) {
        say(status, "You did not connect a wallet.", "error");
      } else {
        say(status, e.trouble ? e.message : "The wallet could not connect: " + e.message, "error");
      }
    }
  }

  async function disconnect() {
    remember(null);
    if (client && client.clearActiveAccount) {
      try {
        await client.clearActiveAccount();
      } catch (e) {
        // Forgetting the account here is what matters.
      }
    }
    render();
  }

  // The operation a form describes: its kind, then each named field,
  // numbers for `data-number` fields, blank optional fields left out.
  function operationOf(form) {
    var op = { kind: form.dataset.op };
    Array.prototype.forEach.call(form.elements, function (field) {
      if (!field.name || field.disabled) {
        return;
      }
      var value = field.value.trim();
      if (value === "") {
        return;
      }
      if (field.dataset.list !== undefined) {
        op[field.name] = value.split(/\s+/).filter(Boolean);
      } else if (field.dataset.number !== undefined) {
        op[field.name] = Number(value);
      } else {
        op[field.name] = value;
      }
    });
    return op;
  }

  async function receipt(hash, status) {
    var deadline = Date.now() + RECEIPT_WAIT_MS;
    while (Date.now() < deadline) {
      try {
        return await api("GET", "/api/v1/operations/" + hash);
      } catch (e) {
        if (e.status !== 404) {
          throw e;
        }
      }
      say(status, "Sent. Waiting for the rollup to apply it…", "pending");
      await new Promise(function (done) {
        setTimeout(done, RECEIPT_POLL_MS);
      });
    }
    throw Trouble(
      "Sent, but no receipt after two minutes: operation " + hash + ". It may still apply; reload later."
    );
  }

  async function act(form) {
    var status = form.querySelector(".action-status");
    var button = form.querySelector("button[type=submit]");
    var a = account();
    if (!a) {
      say(status, "Connect a wallet first.", "error");
      return;
    }
    button.disabled = true;
    try {
      say(status, "Preparing…", "pending");
      var built = await api("POST", "/api/v1/operations/build", {
        signer: a.publicKey || a.address,
        operation: operationOf(form),
      });
      var words = form.querySelector(".action-words");
      if (words) {
        words.hidden = false;
        words.textContent = built.text;
      }
      say(
        status,
        built.warning
          ? "Before you sign: " + built.warning + " (see “Depositing” on the About page). Your wallet asks you to sign the words above."
          : "Your wallet asks you to sign the words above.",
        built.warning ? "warning" : "pending"
      );
      var signed;
      try {
        signed = await walletClient().requestSignPayload({
          signingType: micheline(),
          payload: built.bytes_to_sign,
          sourceAddress: a.address,
        });
      } catch (e) {
        if (declined(e)) {
          throw Trouble("You declined to sign. Nothing was sent.");
        }
        throw Trouble("The wallet could not sign: " + (e.message || e));
      }
      var sent = await api("POST", "/api/v1/operations/submit", {
        unsigned: built.unsigned,
        signature: signed.signature,
        public_key: built.reveal ? a.publicKey : undefined,
      });
      var done = await receipt(sent.hash, status);
      if (done.outcome === "applied") {
        say(status, "Applied at level " + done.level + ". Refreshing…", "applied");
        setTimeout(function () {
          window.location.reload();
        }, 1500);
      } else {
        var reason = done.reason || "no reason given";
        var advice = /insufficient balance/.test(reason)
          ? " Deposit to the rollup first: see “Depositing” on the About page."
          : "";
        say(status, "Failed: " + reason + "." + advice, "failed");
      }
    } catch (e) {
      var message = e.trouble ? e.message : "Something went wrong: " + e.message;
      if (e.status === 502) {
        message = "The rollup node is unreachable: " + e.message;
      }
      say(status, message, "error");
    } finally {
      button.disabled = false;
    }
  }

  function start() {
    var connectButton = byId("wallet-connect");
    if (!connectButton) {
      return;
    }
    connectButton.addEventListener("click", connect);
    byId("wallet-disconnect").addEventListener("click", disconnect);
    document.querySelectorAll("form.action[data-op]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        act(form);
      });
    });
    render();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
