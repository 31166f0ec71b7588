//! The storage contract, run against every backend: migrations, tenant scoping in SQL,
//! referential integrity across tenants, concurrent writers.

mod common;
use common::*;
use santei_server::storage::{new_id, now, Collection, Doc, ListFilter, StoreError, TenantRow};

fn tenant_row(code: &str) -> TenantRow {
    TenantRow {
        id: new_id().unwrap(),
        institution_code: code.into(),
        name: "n".into(),
        prefecture: "13".into(),
        kind: "clinic".into(),
        posted_hours: "{}".into(),
        settings: "{}".into(),
        created_at: now(),
        updated_at: now(),
    }
}

fn patient_doc(number: &str) -> Doc {
    Doc { id: new_id().unwrap(), number: Some(number.into()), data: "{}".into(), created_at: now(), updated_at: now(), ..Doc::default() }
}

#[test]
fn storage_contract() {
    for b in backends() {
        let rt = runtime();
        let dir = tempfile::tempdir().unwrap();
        let st = open_storage(&rt, &b, dir.path());
        // Migrations are recorded and re-opening applies nothing twice.
        assert_eq!(rt.block_on(st.schema_versions()).unwrap(), vec![1]);
        let st2 = open_storage(&rt, &b, dir.path());
        assert_eq!(rt.block_on(st2.schema_versions()).unwrap(), vec![1]);
        rt.block_on(st.ping()).unwrap();

        let (ta, tb) = (tenant_row(&random_code()), tenant_row(&random_code()));
        rt.block_on(st.create_tenant(ta.clone())).unwrap();
        rt.block_on(st.create_tenant(tb.clone())).unwrap();
        assert!(matches!(rt.block_on(st.create_tenant(TenantRow { id: new_id().unwrap(), ..ta.clone() })), Err(StoreError::Conflict(_))));
        assert_eq!(rt.block_on(st.get_tenant(ta.id.clone())).unwrap().as_ref(), Some(&ta));

        let p = patient_doc("1");
        rt.block_on(st.insert(ta.id.clone(), Collection::Patients, p.clone())).unwrap();
        assert_eq!(rt.block_on(st.get(ta.id.clone(), Collection::Patients, p.id.clone())).unwrap().as_ref(), Some(&p));
        // Another tenant sees nothing, changes nothing.
        assert_eq!(rt.block_on(st.get(tb.id.clone(), Collection::Patients, p.id.clone())).unwrap(), None);
        assert!(!rt.block_on(st.update(tb.id.clone(), Collection::Patients, Doc { data: "{\"x\":1}".into(), ..p.clone() })).unwrap());
        assert!(!rt.block_on(st.delete(tb.id.clone(), Collection::Patients, p.id.clone())).unwrap());
        let all_b = rt.block_on(st.list(tb.id.clone(), Collection::Patients, ListFilter { limit: 100, ..Default::default() })).unwrap();
        assert!(all_b.is_empty());
        // A child of tenant B cannot point at tenant A's patient: the composite key refuses it.
        let v = Doc {
            id: new_id().unwrap(),
            patient_id: Some(p.id.clone()),
            month: Some("2024-06".into()),
            data: "{}".into(),
            created_at: now(),
            updated_at: now(),
            ..Doc::default()
        };
        assert_eq!(rt.block_on(st.insert(tb.id.clone(), Collection::Visits, v.clone())), Err(StoreError::MissingParent));
        rt.block_on(st.insert(ta.id.clone(), Collection::Visits, v.clone())).unwrap();
        assert_eq!(rt.block_on(st.get(ta.id.clone(), Collection::Visits, v.id.clone())).unwrap().as_ref(), Some(&v));
        // Same patient number in another tenant is fine; twice in one tenant is a conflict.
        rt.block_on(st.insert(tb.id.clone(), Collection::Patients, patient_doc("1"))).unwrap();
        assert!(matches!(rt.block_on(st.insert(ta.id.clone(), Collection::Patients, patient_doc("1"))), Err(StoreError::Conflict(_))));
        // Deleting the patient cascades to visits.
        assert!(rt.block_on(st.delete(ta.id.clone(), Collection::Patients, p.id.clone())).unwrap());
        assert_eq!(rt.block_on(st.get(ta.id.clone(), Collection::Visits, v.id.clone())).unwrap(), None);

        // Concurrent writers: all land.
        let ids: Vec<String> = rt.block_on(async {
            let mut handles = Vec::new();
            for i in 0..64 {
                let st = st.clone();
                let t = ta.id.clone();
                handles.push(tokio::spawn(async move {
                    let d = patient_doc(&format!("c{i}"));
                    st.insert(t, Collection::Patients, d.clone()).await.map(|_| d.id)
                }));
            }
            let mut out = Vec::new();
            for h in handles {
                out.push(h.await.unwrap().unwrap());
            }
            out
        });
        let listed = rt.block_on(st.list(ta.id.clone(), Collection::Patients, ListFilter { limit: 1000, ..Default::default() })).unwrap();
        for id in &ids {
            assert!(listed.iter().any(|d| &d.id == id));
        }
        assert_eq!(listed.len(), 64);
    }
}
