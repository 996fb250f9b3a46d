//! The interpreter on XSD features the IATI schemas do not use, so that a future schema
//! version using them is still read correctly.

use super::compile_texts;
use crate::iati::report::Layer;
use crate::iati::validate::validate_against;

const XSD: &str = r###"<?xml version="1.0"?>
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">
  <xs:simpleType name="status">
    <xs:restriction base="xs:token">
      <xs:enumeration value="open"/>
      <xs:enumeration value="closed"/>
    </xs:restriction>
  </xs:simpleType>
  <xs:simpleType name="code">
    <xs:restriction base="xs:string">
      <xs:pattern value="[A-Z]{2}-\d+"/>
      <xs:maxLength value="8"/>
    </xs:restriction>
  </xs:simpleType>
  <xs:attributeGroup name="common">
    <xs:attribute name="status" type="status" use="required"/>
  </xs:attributeGroup>
  <xs:complexType name="base">
    <xs:sequence>
      <xs:element name="a" type="xs:integer"/>
    </xs:sequence>
    <xs:attributeGroup ref="common"/>
  </xs:complexType>
  <xs:complexType name="priced">
    <xs:simpleContent>
      <xs:extension base="xs:decimal">
        <xs:attribute name="currency" type="code"/>
      </xs:extension>
    </xs:simpleContent>
  </xs:complexType>
  <xs:complexType name="small-price">
    <xs:simpleContent>
      <xs:restriction base="priced">
        <xs:maxInclusive value="10"/>
      </xs:restriction>
    </xs:simpleContent>
  </xs:complexType>
  <xs:element name="root">
    <xs:complexType>
      <xs:sequence>
        <xs:element name="item" maxOccurs="3">
          <xs:complexType>
            <xs:complexContent>
              <xs:extension base="base">
                <xs:choice>
                  <xs:element name="b" type="xs:boolean"/>
                  <xs:element name="c" type="small-price"/>
                </xs:choice>
              </xs:extension>
            </xs:complexContent>
          </xs:complexType>
        </xs:element>
        <xs:element name="bag" minOccurs="0">
          <xs:complexType>
            <xs:all>
              <xs:element name="x" type="xs:string"/>
              <xs:element name="y" type="xs:string" minOccurs="0"/>
            </xs:all>
          </xs:complexType>
        </xs:element>
        <xs:element name="note" minOccurs="0">
          <xs:complexType mixed="true">
            <xs:sequence>
              <xs:element name="em" type="xs:string" minOccurs="0" maxOccurs="unbounded"/>
            </xs:sequence>
          </xs:complexType>
        </xs:element>
        <xs:any namespace="##other" processContents="strict" minOccurs="0"/>
      </xs:sequence>
    </xs:complexType>
  </xs:element>
</xs:schema>"###;

fn schema_errors(xml: &str) -> Vec<String> {
    let schema =
        compile_texts(&[("t.xsd", XSD), ("xml.xsd", "")], &["t.xsd"]).expect("schema compiles");
    validate_against(&schema, xml)
        .findings
        .into_iter()
        .filter(|f| f.layer == Layer::Schema || f.rule_id == "0.1.1")
        .map(|f| f.message)
        .collect()
}

#[test]
fn a_document_that_follows_every_feature_is_valid() {
    let xml = r#"<root>
      <item status=" open "><a>1</a><b>true</b></item>
      <item status="closed"><a>2</a><c currency="EU-12">9.5</c></item>
      <bag><y>later</y><x>first</x></bag>
      <note>text <em>and</em> more</note>
    </root>"#;
    assert_eq!(schema_errors(xml), Vec::<String>::new());
}

#[test]
fn each_broken_feature_is_reported() {
    let xml = r#"<root xmlns:o="urn:other">
      <item status="maybe"><a>x</a><b>true</b><c>1</c></item>
      <item><a>2</a><c currency="eu-1">11</c></item>
      <item status="open"><a>3</a><c currency="AB-123456">1</c></item>
      <bag><x>1</x><x>2</x></bag>
      <o:unknown/>
    </root>"#;
    let errors = schema_errors(xml);
    let expect = [
        "[facet 'enumeration'] The value 'maybe'",
        "'x' is not a valid value of the atomic type 'xs:integer'",
        "Element 'c': This element is not expected",
        "The attribute 'status' is required but missing",
        "attribute 'currency'",
        "'11'",
        "[facet 'length'] The value 'AB-123456' has a length of 9",
        "Element 'x': This element is not expected",
        "No matching global element declaration available, but demanded by the strict wildcard",
    ];
    for e in expect {
        assert!(
            errors.iter().any(|m| m.contains(e)),
            "missing {e:?} in {errors:#?}"
        );
    }
}

#[test]
fn all_groups_need_their_required_members() {
    let errors =
        schema_errors("<root><item status='open'><a>1</a><b>0</b></item><bag><y/></bag></root>");
    assert!(
        errors
            .iter()
            .any(|m| m.contains("Missing child element(s). Expected is ( x )")),
        "{errors:#?}"
    );
}

#[test]
fn types_said_to_take_any_text_accept_any_text() {
    let schema = crate::iati::xsd::IATI_SCHEMA.as_ref().expect("IATI schema");
    let samples = [
        "",
        " ",
        "a  b\t\nc",
        "not a date",
        "-1.5e9",
        "<&>",
        "x".repeat(5000).as_str(),
    ]
    .map(str::to_owned);
    let mut any = 0;
    for ty in 0..schema.simple_types.len() as u32 {
        if schema.any_text[ty as usize] {
            any += 1;
            for s in &samples {
                assert_eq!(
                    schema.check_value(ty, s),
                    Ok(()),
                    "{}",
                    schema.simple_types[ty as usize].label
                );
            }
        }
    }
    // Strings (narratives among them) are; dates, codes and numbers are not.
    assert!(any > 0 && any < schema.simple_types.len());
    let date = (0..schema.simple_types.len())
        .find(|t| schema.simple_types[*t].label == "xs:date")
        .expect("xs:date");
    assert!(!schema.any_text[date]);
}
