//! The person's browser as a monitor of the log (issue: a co-managed ledger, item 5): the
//! portal page checks, with the WebAssembly verifier, that each of the person's entries is
//! in the checkpoint it is shown, remembers that checkpoint, checks that the next one
//! extends it — and catches a log that shows another history: a real fork, made by
//! running a copy of the operator's data (same keys) that took other entries.

use crate::portal::{browser, contact, record, sign_in};
use crate::service::checkpoint_covering;
use crate::util::{Db, Env, get, post};
use crate::verify_page::{Driver, js, wait_for};
use serde_json::{Value, json};

/// Copies the test's SQLite database and data directory (its keys) from `from` to `to`:
/// `to` then runs the same log, under the same keys, from this point on.
pub(crate) fn fork(from: &Env, to: &Env) {
    for suffix in ["", "-wal", "-shm"] {
        let src = from.dir.path().join(format!("c.sqlite3{suffix}"));
        if src.exists() {
            std::fs::copy(&src, to.dir.path().join(format!("c.sqlite3{suffix}"))).unwrap();
        }
    }
    let status = std::process::Command::new("cp")
        .arg("-a")
        .arg(from.data_dir())
        .arg(to.data_dir())
        .status()
        .unwrap();
    assert!(status.success());
}

/// True once the page's monitor has checked (and the page is loaded at all).
const CHECKED: &str =
    "document.getElementById('monitor') && document.getElementById('monitor').dataset.relation";

fn size(note: &str) -> u64 {
    note.lines().nth(1).unwrap().parse().unwrap()
}

#[test]
fn the_portal_checks_the_log_in_the_browser_and_catches_another_history() {
    let env = Env::new(Db::Sqlite);
    let (_tenant, key) = env.tenant("ACME SAS");
    let email = "ada.lovelace@example.org";
    let s = env.start();
    let id = contact(&s, &key, json!({"email": email, "name": "Ada Lovelace"}));
    record(&s, &key, &id, "newsletter");
    record(&s, &key, &id, "invoicing");
    checkpoint_covering(&s, 2);
    // The copy the lying operator will run: stopped cleanly, copied, both restarted.
    assert!(s.terminate().success());
    let other = Env::new(Db::Sqlite);
    fork(&env, &other);
    let s = env.start();
    let liar = other.start();
    // The honest log: a read of Ada's data (an event about her) and another proof.
    let r = post(
        &s.url(&format!("/v1/contacts/{id}/reveal")),
        Some(&key),
        &json!({"purpose": "invoicing", "fields": ["name"], "reason": "the monthly invoice"}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    record(&s, &key, &id, "offers");
    let honest = checkpoint_covering(&s, 4);
    // The other history: other entries after the first two, more of them.
    let stranger = contact(
        &liar,
        &key,
        json!({"email": "someone.else@example.org", "name": "Someone Else"}),
    );
    for purpose in [
        "newsletter",
        "offers",
        "sms",
        "survey",
        "events",
        "partners",
    ] {
        record(&liar, &key, &stranger, purpose);
    }
    let lie = checkpoint_covering(&liar, size(&honest) + 2);
    assert_ne!(lie.lines().nth(2), honest.lines().nth(2));

    let driver = Driver::start(env.dir.path());
    let profile = tempfile::tempdir().unwrap();
    let downloads = env.dir.path().join("downloads");
    std::fs::create_dir_all(&downloads).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let c = browser(&driver, profile.path(), &downloads).await;
        sign_in(&c, &s, &env, email, None).await;

        // First visit: every entry about Ada (three proofs, one event) is checked.
        wait_for(&c, CHECKED, "the monitor").await;
        let state = |c: &fantoccini::Client| {
            let c = c.clone();
            async move {
                js(
                    &c,
                    "const m = document.getElementById('monitor');
                     return {relation: m.dataset.relation, line: m.querySelector('.monitor-line').textContent,
                             rows: [...document.querySelectorAll('[data-monitor-url], [data-monitor-entry]')]
                                    .map(r => [r.dataset.monitor, r.querySelector('.monitor-status').textContent]),
                             remembered: localStorage.getItem('consentry.monitor:' + JSON.parse(m.dataset.keys).log[0].split('+')[0] + ':checkpoint'),
                             evidence: localStorage.getItem('consentry.monitor:' + JSON.parse(m.dataset.keys).log[0].split('+')[0] + ':evidence')};",
                )
                .await
            }
        };
        let first = state(&c).await;
        assert_eq!(first["relation"], "first", "{first:#}");
        let rows = first["rows"].as_array().unwrap();
        assert_eq!(rows.len(), 4, "three proofs and one read: {first:#}");
        for row in rows {
            assert_eq!(row[0], "included", "{first:#}");
            assert!(row[1].as_str().unwrap().starts_with('✓'), "{first:#}");
        }
        let remembered = first["remembered"].as_str().unwrap().to_owned();
        assert!(size(&remembered) >= 4, "{remembered}");
        assert!(
            first["line"].as_str().unwrap().contains("will remember"),
            "{first:#}"
        );

        // The log grows; the next visit proves it extends what the browser saw.
        record(&s, &key, &id, "sms");
        checkpoint_covering(&s, size(&remembered) + 1);
        c.refresh().await.unwrap();
        wait_for(&c, CHECKED, "the monitor").await;
        let second = state(&c).await;
        assert_eq!(second["relation"], "extends", "{second:#}");
        assert!(
            second["line"].as_str().unwrap().contains("extends"),
            "{second:#}"
        );
        assert!(
            size(second["remembered"].as_str().unwrap()) > size(&remembered),
            "{second:#}"
        );
        assert!(second["evidence"].is_null());

        // Another history, under the same keys (the copy's checkpoint, as a browser that
        // was shown it would remember it): the honest page now cannot be reconciled with
        // it, and says so; both signed notes are kept.
        let lie = get(&liar.url("/checkpoint"), None).text();
        assert!(size(&lie) > size(second["remembered"].as_str().unwrap()));
        js(
            &c,
            &format!(
                "const m = document.getElementById('monitor');
                 localStorage.setItem('consentry.monitor:' + JSON.parse(m.dataset.keys).log[0].split('+')[0] + ':checkpoint', {});
                 return true;",
                serde_json::to_string(&lie).unwrap()
            ),
        )
        .await;
        c.refresh().await.unwrap();
        wait_for(&c, CHECKED, "the monitor").await;
        let caught = state(&c).await;
        assert_eq!(caught["relation"], "inconsistent", "{caught:#}");
        assert!(
            caught["line"].as_str().unwrap().starts_with("Warning"),
            "{caught:#}"
        );
        assert_eq!(caught["remembered"], Value::from(lie.clone()), "the evidence stays");
        let evidence: Value = serde_json::from_str(caught["evidence"].as_str().unwrap()).unwrap();
        assert_eq!(evidence["remembered"], Value::from(lie));
        assert!(evidence["shown"].as_str().unwrap().contains("— "), "{evidence:#}");
        let png = c.screenshot().await.unwrap();
        std::fs::write(
            crate::verify_page::screenshot_dir().join("portal-monitor-inconsistent.png"),
            png,
        )
        .unwrap();
        c.close().await.unwrap();
    });
    drop(liar);
    drop(s);
}
