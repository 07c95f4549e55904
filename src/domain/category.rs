//! Apple Podcasts categories: the list Siaran accepts and the `"Parent > Child"` form shows store.

use std::{
    collections::{HashMap, HashSet},
    sync::LazyLock,
};

use serde::Deserialize;

/// Vendored rather than fetched: Apple changes the list rarely, and a feed must not depend on a
/// network call. The Podcast Index `categories.json` is not used because it is a flat list of
/// single words ("Society", "Culture") that cannot say which child belongs to which parent.
const APPLE_CATEGORIES_JSON: &str = include_str!("../../feeds/apple-categories.json");

#[derive(Deserialize)]
struct CategoryFile {
    categories: Vec<Parent>,
}

#[derive(Deserialize)]
struct Parent {
    name: String,
    subcategories: Vec<String>,
}

/// Parent name -> its subcategories.
static CATEGORIES: LazyLock<HashMap<String, HashSet<String>>> = LazyLock::new(|| {
    let file: CategoryFile = serde_json::from_str(APPLE_CATEGORIES_JSON)
        .expect("feeds/apple-categories.json is compiled in and checked by the tests");
    file.categories
        .into_iter()
        .map(|p| (p.name, p.subcategories.into_iter().collect()))
        .collect()
});

/// Every category as a show stores it, in Apple's order: each parent, then its children as
/// `"Parent > Child"` (the studio's picker).
pub fn all_categories() -> &'static [String] {
    static ALL: LazyLock<Vec<String>> = LazyLock::new(|| {
        let file: CategoryFile = serde_json::from_str(APPLE_CATEGORIES_JSON)
            .expect("feeds/apple-categories.json is compiled in and checked by the tests");
        file.categories
            .into_iter()
            .flat_map(|p| {
                let children: Vec<String> = p
                    .subcategories
                    .iter()
                    .map(|c| format!("{} > {c}", p.name))
                    .collect();
                std::iter::once(p.name).chain(children)
            })
            .collect()
    });
    &ALL
}

/// The API contract's name for a category: one of `all_categories()`, as an enum.
pub struct CategoryName;

impl utoipa::PartialSchema for CategoryName {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .description(Some(
                "An Apple Podcasts category: `Parent` or `Parent > Child`, as Apple spells it",
            ))
            .enum_values(Some(all_categories().iter().cloned()))
            .into()
    }
}

impl utoipa::ToSchema for CategoryName {}

/// Splits `"News > Politics"` into `("News", Some("Politics"))` and `"Government"` into
/// `("Government", None)`. `None` when the value has an empty part or more than two levels,
/// which Apple's list never has.
pub(crate) fn split(category: &str) -> Option<(&str, Option<&str>)> {
    let mut parts = category.split('>').map(str::trim);
    let parent = parts.next().filter(|p| !p.is_empty())?;
    let child = match parts.next() {
        None => None,
        Some("") => return None,
        Some(child) => Some(child),
    };
    if parts.next().is_some() {
        return None;
    }
    Some((parent, child))
}

/// Whether `category` (`"Parent"` or `"Parent > Child"`) names one of Apple's categories.
/// Case-sensitive: Apple matches the `text` attribute exactly.
pub fn category_is_known(category: &str) -> bool {
    let Some((parent, child)) = split(category) else {
        return false;
    };
    CATEGORIES
        .get(parent)
        .is_some_and(|children| child.is_none_or(|c| children.contains(c)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vendored_list_is_apples_full_list() {
        assert_eq!(CATEGORIES.len(), 19);
        let total: usize = CATEGORIES.values().map(|c| 1 + c.len()).sum();
        assert_eq!(total, 110);
    }

    #[test]
    fn known_and_unknown_categories() {
        for ok in [
            "Government",
            "News > Politics",
            "News>Politics",
            "Society & Culture",
            "Society & Culture > Documentary",
            "Education > How To",
            "TV & Film > After Shows",
        ] {
            assert!(category_is_known(ok), "{ok:?}");
        }
        for bad in [
            "",
            " > Politics",
            "News > ",
            "Politics",
            "news",
            "News > Documentary",
            "News > Politics > Local",
            "Government > Local",
            "Society",
            "Daily",
        ] {
            assert!(!category_is_known(bad), "{bad:?}");
        }
    }

    #[test]
    fn split_forms() {
        assert_eq!(split("Government"), Some(("Government", None)));
        assert_eq!(
            split(" News >  Politics "),
            Some(("News", Some("Politics")))
        );
        assert_eq!(split("a > b > c"), None);
        assert_eq!(split(""), None);
    }
}
