#!/usr/bin/env python3
# gen-en16931-cases: writes the per-rule test cases of the EN 16931 rule sets
#   tests/rules/en16931-{model,vat,codes,syntax}/<RULE-ID>/{fires,passes}-*.xml
# and the clean base documents they start from, tests/rules/en16931-bases/.
#
# Usage: tests/rules/gen-en16931-cases.py      (from anywhere; rewrites the files)
#
# How a case is written: a base document (a clean EN 16931 invoice or credit
# note in one VAT category, built by base() below) and a list of edits:
#   ("set", PATH, TEXT)              set the text of every element PATH selects
#   ("del", PATH)                    remove every element PATH selects
#   ("add", PARENT, XML)             append the fragment XML (cbc:/cac: prefixes) to PARENT
#   ("attr", PATH, NAME, VALUE)      set (VALUE None: remove) an attribute
# PATH is an ElementTree path relative to the document element with cbc:/cac:
# prefixes ("." is the document element, "cac:InvoiceLine[1]" the first line).
# To add a case: add a row to CASES (rule id, fires or passes, a short name,
# what it shows, the base, the edits) and run this script. Every rule of the
# four sets needs at least one fires- and one passes- case (check_engine's
# rule_coverage_en16931 enforces it); when a rule has no passes row here, its
# passes case is the unedited base document named in DEFAULT_BASE.
import os
import re
import shutil
import sys
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))
NS = {
	"cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
	"cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
	"ext": "urn:oasis:names:specification:ubl:schema:xsd:CommonExtensionComponents-2",
}
INV = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
CN = "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2"
RATE = {"S": "25", "Z": "0", "E": "0", "AE": "0", "K": "0", "G": "0", "O": None, "L": "7", "M": "4", "B": "22"}
EXEMPT = {"E": "Exempt", "AE": "Reverse charge", "K": "Intra-community supply", "G": "Export outside the EU",
	  "O": "Not subject to VAT"}


def tc(cat):
	pct = "" if RATE[cat] is None else "<cbc:Percent>%s</cbc:Percent>" % RATE[cat]
	return "<cbc:ID>%s</cbc:ID>%s<cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme>" % (cat, pct)


def party(kind, name, country, vat):
	pts = ""
	if vat:
		pts = "<cac:PartyTaxScheme><cbc:CompanyID>%s</cbc:CompanyID><cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme></cac:PartyTaxScheme>" % vat
	return ("<cac:%s><cac:Party><cbc:EndpointID schemeID=\"0088\">%s</cbc:EndpointID>"
		"<cac:PartyIdentification><cbc:ID>%s-1</cbc:ID></cac:PartyIdentification>"
		"<cac:PartyName><cbc:Name>%s</cbc:Name></cac:PartyName>"
		"<cac:PostalAddress><cbc:StreetName>Main street 1</cbc:StreetName><cbc:CityName>Town</cbc:CityName>"
		"<cbc:PostalZone>12345</cbc:PostalZone><cac:Country><cbc:IdentificationCode>%s</cbc:IdentificationCode></cac:Country></cac:PostalAddress>"
		"%s<cac:PartyLegalEntity><cbc:RegistrationName>%s AB</cbc:RegistrationName><cbc:CompanyID>5560001111</cbc:CompanyID></cac:PartyLegalEntity>"
		"</cac:Party></cac:%s>") % (kind, "7300010000001" if kind.startswith("AccountingS") else "7300010000002",
					     name, name, country, pts, name, kind)


def base(cat="S", credit=False):
	"""A clean EN 16931 document: two lines (600 + 400), an allowance of 10,
	a charge of 20, all in category CAT."""
	rate = RATE[cat]
	taxable = "1010.00"
	tax = "0.00" if rate is None else "%.2f" % (1010 * int(rate) / 100)
	total = "%.2f" % (1010 + float(tax))
	country = "IT" if cat == "B" else "SE"
	svat, bvat = (None, None) if cat == "O" else (country + "123456789001", country + "987654321001")
	root = "CreditNote" if credit else "Invoice"
	ns = CN if credit else INV
	exempt = ""
	if cat in EXEMPT:
		exempt = "<cbc:TaxExemptionReason>%s</cbc:TaxExemptionReason>" % EXEMPT[cat]
	tcat = tc(cat)
	bd_tc = tcat.replace("<cac:TaxScheme>", exempt + "<cac:TaxScheme>")
	lines = ""
	for i, (q, amt, price) in enumerate(((10, "600.00", "60.00"), (4, "400.00", "100.00")), 1):
		lt = "CreditNoteLine" if credit else "InvoiceLine"
		qt = "CreditedQuantity" if credit else "InvoicedQuantity"
		lines += ("<cac:%s><cbc:ID>%d</cbc:ID><cbc:%s unitCode=\"C62\">%d</cbc:%s>"
			  "<cbc:LineExtensionAmount currencyID=\"EUR\">%s</cbc:LineExtensionAmount>"
			  "<cac:Item><cbc:Name>Item %d</cbc:Name><cac:ClassifiedTaxCategory>%s</cac:ClassifiedTaxCategory></cac:Item>"
			  "<cac:Price><cbc:PriceAmount currencyID=\"EUR\">%s</cbc:PriceAmount></cac:Price></cac:%s>") % (
				  lt, i, qt, q, qt, amt, i, tcat, price, lt)
	xml = ("<%s xmlns=\"%s\" xmlns:cac=\"%s\" xmlns:cbc=\"%s\">"
	       "<cbc:CustomizationID>urn:cen.eu:en16931:2017</cbc:CustomizationID>"
	       "<cbc:ID>INV-1</cbc:ID><cbc:IssueDate>2024-03-01</cbc:IssueDate>%s"
	       "<cbc:%s>%s</cbc:%s><cbc:DocumentCurrencyCode>EUR</cbc:DocumentCurrencyCode>"
	       "<cbc:BuyerReference>REF-1</cbc:BuyerReference>"
	       "%s%s"
	       "<cac:Delivery><cbc:ActualDeliveryDate>2024-02-28</cbc:ActualDeliveryDate><cac:DeliveryLocation><cac:Address>"
	       "<cbc:CityName>Town</cbc:CityName><cac:Country><cbc:IdentificationCode>%s</cbc:IdentificationCode></cac:Country>"
	       "</cac:Address></cac:DeliveryLocation></cac:Delivery>"
	       "<cac:PaymentMeans><cbc:PaymentMeansCode>30</cbc:PaymentMeansCode><cac:PayeeFinancialAccount><cbc:ID>SE4550000000058398257466</cbc:ID></cac:PayeeFinancialAccount></cac:PaymentMeans>"
	       "<cac:PaymentTerms><cbc:Note>30 days net</cbc:Note></cac:PaymentTerms>"
	       "<cac:AllowanceCharge><cbc:ChargeIndicator>false</cbc:ChargeIndicator><cbc:AllowanceChargeReason>Discount</cbc:AllowanceChargeReason>"
	       "<cbc:Amount currencyID=\"EUR\">10.00</cbc:Amount><cac:TaxCategory>%s</cac:TaxCategory></cac:AllowanceCharge>"
	       "<cac:AllowanceCharge><cbc:ChargeIndicator>true</cbc:ChargeIndicator><cbc:AllowanceChargeReason>Freight</cbc:AllowanceChargeReason>"
	       "<cbc:Amount currencyID=\"EUR\">20.00</cbc:Amount><cac:TaxCategory>%s</cac:TaxCategory></cac:AllowanceCharge>"
	       "<cac:TaxTotal><cbc:TaxAmount currencyID=\"EUR\">%s</cbc:TaxAmount><cac:TaxSubtotal>"
	       "<cbc:TaxableAmount currencyID=\"EUR\">%s</cbc:TaxableAmount><cbc:TaxAmount currencyID=\"EUR\">%s</cbc:TaxAmount>"
	       "<cac:TaxCategory>%s</cac:TaxCategory></cac:TaxSubtotal></cac:TaxTotal>"
	       "<cac:LegalMonetaryTotal><cbc:LineExtensionAmount currencyID=\"EUR\">1000.00</cbc:LineExtensionAmount>"
	       "<cbc:TaxExclusiveAmount currencyID=\"EUR\">1010.00</cbc:TaxExclusiveAmount>"
	       "<cbc:TaxInclusiveAmount currencyID=\"EUR\">%s</cbc:TaxInclusiveAmount>"
	       "<cbc:AllowanceTotalAmount currencyID=\"EUR\">10.00</cbc:AllowanceTotalAmount>"
	       "<cbc:ChargeTotalAmount currencyID=\"EUR\">20.00</cbc:ChargeTotalAmount>"
	       "<cbc:PayableAmount currencyID=\"EUR\">%s</cbc:PayableAmount></cac:LegalMonetaryTotal>"
	       "%s</%s>") % (root, ns, NS["cac"], NS["cbc"],
			     "" if credit else "<cbc:DueDate>2024-03-31</cbc:DueDate>",
			     "CreditNoteTypeCode" if credit else "InvoiceTypeCode", "381" if credit else "380",
			     "CreditNoteTypeCode" if credit else "InvoiceTypeCode",
			     party("AccountingSupplierParty", "Seller", country, svat),
			     party("AccountingCustomerParty", "Buyer", country, bvat),
			     country, tcat, tcat, tax, taxable, tax, bd_tc, total, total, lines, root)
	return xml


for p, u in NS.items():
	ET.register_namespace(p, u)


def parse(xml):
	return ET.fromstring(xml)


def qn(path):
	return path


def frag(xml):
	w = "<w xmlns:cac=\"%s\" xmlns:cbc=\"%s\" xmlns:ext=\"%s\">%s</w>" % (NS["cac"], NS["cbc"], NS["ext"], xml)
	return list(ET.fromstring(w))


def parent_map(root):
	return {c: p for p in root.iter() for c in p}


def apply(root, ops):
	for op in ops:
		kind = op[0]
		if kind == "set":
			els = [root] if op[1] == "." else root.findall(op[1], NS)
			assert els, op
			for e in els:
				e.text = op[2]
		elif kind == "del":
			pm = parent_map(root)
			els = root.findall(op[1], NS)
			assert els, op
			for e in els:
				pm[e].remove(e)
		elif kind == "add":
			els = [root] if op[1] == "." else root.findall(op[1], NS)
			assert els, op
			for e in els:
				for f in frag(op[2]):
					e.append(f)
		elif kind == "attr":
			els = [root] if op[1] == "." else root.findall(op[1], NS)
			assert els, op
			for e in els:
				if op[3] is None:
					e.attrib.pop(op[2], None)
				else:
					e.set(op[2], op[3])
		else:
			raise ValueError(op)


def serialize(root, comment):
	default = root.tag[1:].split("}")[0]
	ET.register_namespace("", default)
	ET.indent(root, "  ")
	body = ET.tostring(root, encoding="unicode")
	return '<?xml version="1.0" encoding="UTF-8"?>\n<!-- %s -->\n%s\n' % (comment.replace("--", "-"), body)


def doc(basename, ops):
	cat, credit = basename.split("-")[1], basename.startswith("creditnote")
	root = parse(base(cat, credit))
	apply(root, ops)
	return root


BASES = ["invoice-%s" % c for c in RATE] + ["creditnote-S", "creditnote-Z"]

L1 = "cac:InvoiceLine[1]"
SUP = "cac:AccountingSupplierParty/cac:Party"
BUY = "cac:AccountingCustomerParty/cac:Party"
LMT = "cac:LegalMonetaryTotal"
BD = "cac:TaxTotal/cac:TaxSubtotal"
ALW = "cac:AllowanceCharge[1]"
CHG = "cac:AllowanceCharge[2]"

# (rule, kind, name, what it shows, base, edits)
CASES = []


def case(rule, kind, name, what, base_, *ops):
	CASES.append((rule, kind, name, what, base_, list(ops)))


B = "invoice-S"
# ---- model: mandatory elements ----
case("BR-01", "fires", "empty-customization", "the specification identifier is empty", B, ("set", "cbc:CustomizationID", ""))
case("BR-02", "fires", "no-id", "the invoice number is missing", B, ("del", "cbc:ID"))
case("BR-03", "fires", "no-issue-date", "the issue date is missing", B, ("del", "cbc:IssueDate"))
case("BR-04", "fires", "no-type-code", "the type code is missing", B, ("del", "cbc:InvoiceTypeCode"))
case("BR-04", "passes", "credit-note", "a credit note has a CreditNoteTypeCode", "creditnote-S")
case("BR-05", "fires", "no-currency", "the document currency is missing", B, ("del", "cbc:DocumentCurrencyCode"))
case("BR-06", "fires", "no-seller-name", "the seller's registration name is missing", B, ("del", SUP + "/cac:PartyLegalEntity/cbc:RegistrationName"))
case("BR-07", "fires", "no-buyer-name", "the buyer's registration name is missing", B, ("del", BUY + "/cac:PartyLegalEntity/cbc:RegistrationName"))
case("BR-08", "fires", "no-seller-address", "the seller postal address is missing", B, ("del", SUP + "/cac:PostalAddress"))
case("BR-09", "fires", "no-seller-country", "the seller address has no country", B, ("del", SUP + "/cac:PostalAddress/cac:Country"))
case("BR-10", "fires", "no-buyer-address", "the buyer postal address is missing", B, ("del", BUY + "/cac:PostalAddress"))
case("BR-11", "fires", "no-buyer-country", "the buyer address has no country", B, ("del", BUY + "/cac:PostalAddress/cac:Country"))
case("BR-12", "fires", "no-line-total", "the sum of line amounts is missing", B, ("del", LMT + "/cbc:LineExtensionAmount"))
case("BR-13", "fires", "no-tax-exclusive", "the total without VAT is missing", B, ("del", LMT + "/cbc:TaxExclusiveAmount"))
case("BR-14", "fires", "no-tax-inclusive", "the total with VAT is missing", B, ("del", LMT + "/cbc:TaxInclusiveAmount"))
case("BR-15", "fires", "no-payable", "the amount due is missing", B, ("del", LMT + "/cbc:PayableAmount"))
case("BR-16", "fires", "no-lines", "the invoice has no lines", B, ("del", "cac:InvoiceLine"))
case("BR-16", "passes", "credit-note-lines", "credit note lines count as lines", "creditnote-S")
PAYEE_OK = "<cac:PayeeParty><cac:PartyName><cbc:Name>Factoring Ltd</cbc:Name></cac:PartyName></cac:PayeeParty>"
case("BR-17", "fires", "payee-no-name", "a payee without a name", B, ("add", ".", "<cac:PayeeParty><cac:PartyIdentification><cbc:ID>P-9</cbc:ID></cac:PartyIdentification></cac:PayeeParty>"))
case("BR-17", "fires", "payee-is-seller", "a payee whose name is the seller's trading name", B, ("add", ".", "<cac:PayeeParty><cac:PartyName><cbc:Name>Seller</cbc:Name></cac:PartyName></cac:PayeeParty>"))
case("BR-17", "passes", "payee-named", "a payee with its own name", B, ("add", ".", PAYEE_OK))
case("BR-17", "passes", "payee-same-legal-name", "a payee with its own trading name and identifier whose registration name is the seller's (the official rule compares trading names and identifiers only)", B, ("add", ".", "<cac:PayeeParty><cac:PartyIdentification><cbc:ID>P-9</cbc:ID></cac:PartyIdentification><cac:PartyName><cbc:Name>Seller Payments</cbc:Name></cac:PartyName><cac:PartyLegalEntity><cbc:RegistrationName>Seller AB</cbc:RegistrationName></cac:PartyLegalEntity></cac:PayeeParty>"))
TR_OK = ("<cac:TaxRepresentativeParty><cac:PartyName><cbc:Name>Rep</cbc:Name></cac:PartyName><cac:PostalAddress><cac:Country><cbc:IdentificationCode>SE</cbc:IdentificationCode></cac:Country></cac:PostalAddress>"
	 "<cac:PartyTaxScheme><cbc:CompanyID>SE111111111101</cbc:CompanyID><cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme></cac:PartyTaxScheme></cac:TaxRepresentativeParty>")
for r, what, op in (("BR-18", "a tax representative without a name", ("del", "cac:TaxRepresentativeParty/cac:PartyName")),
		    ("BR-19", "a tax representative without a postal address", ("del", "cac:TaxRepresentativeParty/cac:PostalAddress")),
		    ("BR-20", "a tax representative address without a country", ("del", "cac:TaxRepresentativeParty/cac:PostalAddress/cac:Country")),
		    ("BR-56", "a tax representative without a VAT identifier", ("del", "cac:TaxRepresentativeParty/cac:PartyTaxScheme"))):
	case(r, "fires", "tax-representative", what, B, ("add", ".", TR_OK), op)
	case(r, "passes", "tax-representative", "a complete tax representative", B, ("add", ".", TR_OK))
BLANK = "  \n  "
for r, what, path in (("BR-01", "the specification identifier is only blanks", "cbc:CustomizationID"),
		      ("BR-02", "the invoice number is only blanks", "cbc:ID"),
		      ("BR-03", "the issue date is only blanks", "cbc:IssueDate"),
		      ("BR-05", "the currency code is only blanks", "cbc:DocumentCurrencyCode"),
		      ("BR-06", "the seller name is only blanks", SUP + "/cac:PartyLegalEntity/cbc:RegistrationName"),
		      ("BR-07", "the buyer name is only blanks", BUY + "/cac:PartyLegalEntity/cbc:RegistrationName"),
		      ("BR-09", "the seller country code is only blanks", SUP + "/cac:PostalAddress/cac:Country/cbc:IdentificationCode"),
		      ("BR-11", "the buyer country code is only blanks", BUY + "/cac:PostalAddress/cac:Country/cbc:IdentificationCode"),
		      ("BR-21", "the first line identifier is only blanks", L1 + "/cbc:ID"),
		      ("BR-25", "the first item name is only blanks", L1 + "/cac:Item/cbc:Name"),
		      ("BR-50", "the payment account identifier is only blanks", "cac:PaymentMeans/cac:PayeeFinancialAccount/cbc:ID"),
		      ("BR-04", "the type code is only blanks", "cbc:InvoiceTypeCode")):
	case(r, "fires", "blank", what + " (the official test is normalize-space(...) != '')", B, ("set", path, BLANK))
case("BR-18", "fires", "blank-name", "a tax representative whose name is only blanks", B, ("add", ".", TR_OK), ("set", "cac:TaxRepresentativeParty/cac:PartyName/cbc:Name", BLANK))
case("BR-20", "fires", "blank-country", "a tax representative country code of only blanks", B, ("add", ".", TR_OK), ("set", "cac:TaxRepresentativeParty/cac:PostalAddress/cac:Country/cbc:IdentificationCode", BLANK))
case("BR-52", "fires", "blank-reference", "a supporting document reference of only blanks", B, ("add", ".", "<cac:AdditionalDocumentReference><cbc:ID> </cbc:ID></cac:AdditionalDocumentReference>"))
case("BR-21", "fires", "empty-line-id", "a line with an empty identifier", B, ("set", L1 + "/cbc:ID", ""))
case("BR-22", "fires", "no-quantity", "a line without a quantity", B, ("del", L1 + "/cbc:InvoicedQuantity"))
case("BR-22", "passes", "credited-quantity", "credit note lines have a credited quantity", "creditnote-S")
case("BR-23", "fires", "no-unit", "a quantity without a unit code", B, ("attr", L1 + "/cbc:InvoicedQuantity", "unitCode", None))
case("BR-23", "fires", "credit-note-no-unit", "a credited quantity without a unit code", "creditnote-S", ("attr", "cac:CreditNoteLine[1]/cbc:CreditedQuantity", "unitCode", None))
case("BR-24", "fires", "no-line-amount", "a line without a net amount", B, ("del", L1 + "/cbc:LineExtensionAmount"))
case("BR-25", "fires", "no-item-name", "an item without a name", B, ("del", L1 + "/cac:Item/cbc:Name"))
case("BR-26", "fires", "no-price", "a line without a net price", B, ("del", L1 + "/cac:Price/cbc:PriceAmount"))
case("BR-27", "fires", "negative-price", "a negative net price", B, ("set", L1 + "/cac:Price/cbc:PriceAmount", "-60.00"))
case("BR-27", "passes", "zero-price", "a price of zero is allowed", B, ("set", L1 + "/cac:Price/cbc:PriceAmount", "0.00"))
case("BR-28", "fires", "negative-gross", "a negative gross price", B, ("add", L1 + "/cac:Price", "<cac:AllowanceCharge><cbc:ChargeIndicator>false</cbc:ChargeIndicator><cbc:Amount currencyID=\"EUR\">1.00</cbc:Amount><cbc:BaseAmount currencyID=\"EUR\">-61.00</cbc:BaseAmount></cac:AllowanceCharge>"))
case("BR-28", "passes", "gross-price", "a positive gross price", B, ("add", L1 + "/cac:Price", "<cac:AllowanceCharge><cbc:ChargeIndicator>false</cbc:ChargeIndicator><cbc:Amount currencyID=\"EUR\">1.00</cbc:Amount><cbc:BaseAmount currencyID=\"EUR\">61.00</cbc:BaseAmount></cac:AllowanceCharge>"))
PERIOD = "<cac:InvoicePeriod><cbc:StartDate>2024-02-01</cbc:StartDate><cbc:EndDate>2024-02-29</cbc:EndDate></cac:InvoicePeriod>"
PERIOD_BAD = "<cac:InvoicePeriod><cbc:StartDate>2024-02-29</cbc:StartDate><cbc:EndDate>2024-02-01</cbc:EndDate></cac:InvoicePeriod>"
case("BR-29", "fires", "period-reversed", "the invoicing period ends before it starts", B, ("add", ".", PERIOD_BAD))
case("BR-29", "passes", "period", "a proper invoicing period", B, ("add", ".", PERIOD))
case("BR-30", "fires", "line-period-reversed", "a line period that ends before it starts", B, ("add", L1, PERIOD_BAD))
case("BR-30", "passes", "line-period", "a proper line period", B, ("add", L1, PERIOD))
case("BR-CO-19", "fires", "empty-period", "an invoicing period without dates or a VAT point date code", B, ("add", ".", "<cac:InvoicePeriod></cac:InvoicePeriod>"))
case("BR-CO-19", "passes", "code-only", "a period with only the VAT point date code (BT-8): the current official binding accepts it", B, ("add", ".", "<cac:InvoicePeriod><cbc:DescriptionCode>3</cbc:DescriptionCode></cac:InvoicePeriod>"))
case("BR-CO-19", "passes", "start-only", "a period with a start date only", B, ("add", ".", "<cac:InvoicePeriod><cbc:StartDate>2024-02-01</cbc:StartDate></cac:InvoicePeriod>"))
case("BR-CO-20", "fires", "empty-line-period", "a line period without dates", B, ("add", L1, "<cac:InvoicePeriod/>"))
case("BR-CO-20", "passes", "line-end-only", "a line period with an end date only", B, ("add", L1, "<cac:InvoicePeriod><cbc:EndDate>2024-02-01</cbc:EndDate></cac:InvoicePeriod>"))
for r, path, what in (("BR-31", ALW + "/cbc:Amount", "an allowance without an amount"),
		      ("BR-32", ALW + "/cac:TaxCategory", "an allowance without a VAT category"),
		      ("BR-36", CHG + "/cbc:Amount", "a charge without an amount"),
		      ("BR-37", CHG + "/cac:TaxCategory", "a charge without a VAT category")):
	case(r, "fires", "missing", what, B, ("del", path))
for r, ac in (("BR-33", ALW), ("BR-CO-21", ALW), ("BR-38", CHG), ("BR-CO-22", CHG)):
	case(r, "fires", "no-reason", "a document level allowance or charge without reason or code", B, ("del", ac + "/cbc:AllowanceChargeReason"))
	case(r, "passes", "reason-code", "a reason code instead of a text", B, ("del", ac + "/cbc:AllowanceChargeReason"),
	     ("add", ac, "<cbc:AllowanceChargeReasonCode>%s</cbc:AllowanceChargeReasonCode>" % ("95" if ac == ALW else "FC")))
LALW = "<cac:AllowanceCharge><cbc:ChargeIndicator>false</cbc:ChargeIndicator><cbc:AllowanceChargeReason>Rebate</cbc:AllowanceChargeReason><cbc:Amount currencyID=\"EUR\">0</cbc:Amount></cac:AllowanceCharge>"
LCHG = "<cac:AllowanceCharge><cbc:ChargeIndicator>true</cbc:ChargeIndicator><cbc:AllowanceChargeReason>Packing</cbc:AllowanceChargeReason><cbc:Amount currencyID=\"EUR\">0</cbc:Amount></cac:AllowanceCharge>"
for r, frag_, op, what in (("BR-41", LALW, ("del", L1 + "/cac:AllowanceCharge/cbc:Amount"), "a line allowance without an amount"),
			   ("BR-42", LALW, ("del", L1 + "/cac:AllowanceCharge/cbc:AllowanceChargeReason"), "a line allowance without reason or code"),
			   ("BR-CO-23", LALW, ("del", L1 + "/cac:AllowanceCharge/cbc:AllowanceChargeReason"), "a line allowance without reason or code"),
			   ("BR-43", LCHG, ("del", L1 + "/cac:AllowanceCharge/cbc:Amount"), "a line charge without an amount"),
			   ("BR-44", LCHG, ("del", L1 + "/cac:AllowanceCharge/cbc:AllowanceChargeReason"), "a line charge without reason or code"),
			   ("BR-CO-24", LCHG, ("del", L1 + "/cac:AllowanceCharge/cbc:AllowanceChargeReason"), "a line charge without reason or code"),
			   ("BR-DEC-24", LALW, ("set", L1 + "/cac:AllowanceCharge/cbc:Amount", "0.001"), "a line allowance amount with 3 decimals"),
			   ("BR-DEC-27", LCHG, ("set", L1 + "/cac:AllowanceCharge/cbc:Amount", "0.001"), "a line charge amount with 3 decimals")):
	case(r, "fires", "line", what, B, ("add", L1, frag_), op)
	case(r, "passes", "line", "a complete line allowance or charge (amount 0)", B, ("add", L1, frag_))
for r, frag_ in (("BR-DEC-25", LALW), ("BR-DEC-28", LCHG)):
	case(r, "fires", "line-base", "a line allowance/charge base amount with 3 decimals", B, ("add", L1, frag_), ("add", L1 + "/cac:AllowanceCharge", "<cbc:BaseAmount currencyID=\"EUR\">1.005</cbc:BaseAmount>"))
	case(r, "passes", "line-base", "a base amount with 2 decimals", B, ("add", L1, frag_), ("add", L1 + "/cac:AllowanceCharge", "<cbc:BaseAmount currencyID=\"EUR\">1.05</cbc:BaseAmount>"))
case("BR-45", "fires", "no-taxable", "a breakdown without a taxable amount", B, ("del", BD + "/cbc:TaxableAmount"))
case("BR-46", "fires", "no-tax", "a breakdown without a tax amount", B, ("del", BD + "/cbc:TaxAmount"))
case("BR-47", "fires", "no-category", "a breakdown without a VAT category", B, ("del", BD + "/cac:TaxCategory"))
case("BR-47", "fires", "gst-scheme", "a breakdown whose tax scheme is not VAT", B, ("set", BD + "/cac:TaxCategory/cac:TaxScheme/cbc:ID", "GST"))
case("BR-48", "fires", "no-rate", "a standard rated breakdown without a rate", B, ("del", BD + "/cac:TaxCategory/cbc:Percent"))
case("BR-48", "passes", "category-O", "category O needs no rate", "invoice-O")
case("BR-49", "fires", "no-means-code", "payment means without a type code", B, ("del", "cac:PaymentMeans/cbc:PaymentMeansCode"))
case("BR-50", "fires", "empty-account", "a credit transfer with an empty account identifier", B, ("set", "cac:PaymentMeans/cac:PayeeFinancialAccount/cbc:ID", ""))
case("BR-51", "fires", "full-card-number", "a full card number instead of the last digits", B, ("set", "cac:PaymentMeans/cbc:PaymentMeansCode", "48"), ("del", "cac:PaymentMeans/cac:PayeeFinancialAccount"),
     ("add", "cac:PaymentMeans", "<cac:CardAccount><cbc:PrimaryAccountNumberID>4111111111111111</cbc:PrimaryAccountNumberID><cbc:NetworkID>VISA</cbc:NetworkID></cac:CardAccount>"))
case("BR-51", "passes", "last-four", "the last four digits of the card", B, ("set", "cac:PaymentMeans/cbc:PaymentMeansCode", "48"), ("del", "cac:PaymentMeans/cac:PayeeFinancialAccount"),
     ("add", "cac:PaymentMeans", "<cac:CardAccount><cbc:PrimaryAccountNumberID>1111</cbc:PrimaryAccountNumberID><cbc:NetworkID>VISA</cbc:NetworkID></cac:CardAccount>"))
case("BR-51", "passes", "first-six-last-four", "ten characters, the first six and last four digits (the current limit is 10)", B, ("set", "cac:PaymentMeans/cbc:PaymentMeansCode", "48"), ("del", "cac:PaymentMeans/cac:PayeeFinancialAccount"),
     ("add", "cac:PaymentMeans", "<cac:CardAccount><cbc:PrimaryAccountNumberID>4111111111</cbc:PrimaryAccountNumberID><cbc:NetworkID>VISA</cbc:NetworkID></cac:CardAccount>"))
case("BR-51", "fires", "eleven", "eleven characters", B, ("set", "cac:PaymentMeans/cbc:PaymentMeansCode", "48"), ("del", "cac:PaymentMeans/cac:PayeeFinancialAccount"),
     ("add", "cac:PaymentMeans", "<cac:CardAccount><cbc:PrimaryAccountNumberID>41111111111</cbc:PrimaryAccountNumberID><cbc:NetworkID>VISA</cbc:NetworkID></cac:CardAccount>"))
ADR = "<cac:AdditionalDocumentReference><cbc:ID>DOC-1</cbc:ID></cac:AdditionalDocumentReference>"
case("BR-52", "fires", "empty-reference", "a supporting document without its reference", B, ("add", ".", "<cac:AdditionalDocumentReference><cbc:ID></cbc:ID></cac:AdditionalDocumentReference>"))
case("BR-52", "passes", "reference", "a supporting document with a reference", B, ("add", ".", ADR))
case("BR-53", "fires", "no-accounting-total", "a VAT accounting currency without the total in it", B, ("add", ".", "<cbc:TaxCurrencyCode>SEK</cbc:TaxCurrencyCode>"))
case("BR-53", "passes", "accounting-total", "the total VAT in the accounting currency is given", B, ("add", ".", "<cbc:TaxCurrencyCode>SEK</cbc:TaxCurrencyCode><cac:TaxTotal><cbc:TaxAmount currencyID=\"SEK\">2900.00</cbc:TaxAmount></cac:TaxTotal>"))
case("BR-54", "fires", "no-value", "an item attribute without a value", B, ("add", L1 + "/cac:Item", "<cac:AdditionalItemProperty><cbc:Name>Colour</cbc:Name></cac:AdditionalItemProperty>"))
case("BR-54", "passes", "name-value", "an item attribute with name and value", B, ("add", L1 + "/cac:Item", "<cac:AdditionalItemProperty><cbc:Name>Colour</cbc:Name><cbc:Value>Red</cbc:Value></cac:AdditionalItemProperty>"))
case("BR-55", "fires", "no-preceding-id", "a billing reference without the preceding invoice number", B, ("add", ".", "<cac:BillingReference><cac:InvoiceDocumentReference><cbc:IssueDate>2024-01-01</cbc:IssueDate></cac:InvoiceDocumentReference></cac:BillingReference>"))
case("BR-55", "passes", "preceding-id", "a billing reference with the preceding invoice number", B, ("add", ".", "<cac:BillingReference><cac:InvoiceDocumentReference><cbc:ID>INV-0</cbc:ID></cac:InvoiceDocumentReference></cac:BillingReference>"))
case("BR-57", "fires", "no-delivery-country", "a deliver-to address without a country", B, ("del", "cac:Delivery/cac:DeliveryLocation/cac:Address/cac:Country"))
case("BR-61", "fires", "no-account", "credit transfer without an account", B, ("del", "cac:PaymentMeans/cac:PayeeFinancialAccount"))
case("BR-61", "passes", "other-means", "a payment means that is not a credit transfer needs no account", B, ("del", "cac:PaymentMeans/cac:PayeeFinancialAccount"), ("set", "cac:PaymentMeans/cbc:PaymentMeansCode", "10"))
case("BR-62", "fires", "no-scheme", "a seller electronic address without a scheme", B, ("attr", SUP + "/cbc:EndpointID", "schemeID", None))
case("BR-63", "fires", "no-scheme", "a buyer electronic address without a scheme", B, ("attr", BUY + "/cbc:EndpointID", "schemeID", None))
case("BR-64", "fires", "no-scheme", "an item standard identifier without a scheme", B, ("add", L1 + "/cac:Item", "<cac:StandardItemIdentification><cbc:ID>7300010000001</cbc:ID></cac:StandardItemIdentification>"))
case("BR-64", "passes", "gtin", "an item standard identifier with a scheme", B, ("add", L1 + "/cac:Item", "<cac:StandardItemIdentification><cbc:ID schemeID=\"0160\">7300010000001</cbc:ID></cac:StandardItemIdentification>"))
case("BR-65", "fires", "no-list", "an item classification without a list id", B, ("add", L1 + "/cac:Item", "<cac:CommodityClassification><cbc:ItemClassificationCode>123</cbc:ItemClassificationCode></cac:CommodityClassification>"))
case("BR-65", "passes", "list", "an item classification with a list id", B, ("add", L1 + "/cac:Item", "<cac:CommodityClassification><cbc:ItemClassificationCode listID=\"STI\">123</cbc:ItemClassificationCode></cac:CommodityClassification>"))
CARD = "<cac:PaymentMeans><cbc:PaymentMeansCode>48</cbc:PaymentMeansCode><cac:CardAccount><cbc:PrimaryAccountNumberID>1234</cbc:PrimaryAccountNumberID><cbc:NetworkID>VISA</cbc:NetworkID></cac:CardAccount></cac:PaymentMeans>"
MANDATE = "<cac:PaymentMeans><cbc:PaymentMeansCode>59</cbc:PaymentMeansCode><cac:PaymentMandate><cbc:ID>M-1</cbc:ID></cac:PaymentMandate></cac:PaymentMeans>"
case("BR-66", "fires", "two-cards", "two payment cards", B, ("add", ".", CARD), ("add", ".", CARD))
case("BR-66", "passes", "one-card", "one payment card", B, ("add", ".", CARD))
case("BR-67", "fires", "two-mandates", "two direct debit mandates", B, ("add", ".", MANDATE), ("add", ".", MANDATE))
case("BR-67", "passes", "one-mandate", "one direct debit mandate", B, ("add", ".", MANDATE))
# ---- model: calculations ----
case("BR-CO-03", "fires", "both", "a VAT point date and a VAT point date code", B, ("add", ".", "<cbc:TaxPointDate>2024-03-01</cbc:TaxPointDate><cac:InvoicePeriod><cbc:StartDate>2024-02-01</cbc:StartDate><cbc:DescriptionCode>3</cbc:DescriptionCode></cac:InvoicePeriod>"))
case("BR-CO-03", "passes", "date-only", "a VAT point date alone", B, ("add", ".", "<cbc:TaxPointDate>2024-03-01</cbc:TaxPointDate>"))
case("BR-CO-04", "fires", "no-line-category", "a line without a VAT category", B, ("del", L1 + "/cac:Item/cac:ClassifiedTaxCategory"))
case("BR-CO-09", "fires", "bad-prefix", "a seller VAT identifier without a country prefix", B, ("set", SUP + "/cac:PartyTaxScheme/cbc:CompanyID", "123456789001"))
case("BR-CO-09", "passes", "greece", "Greece uses the prefix EL", B, ("set", SUP + "/cac:PartyTaxScheme/cbc:CompanyID", "EL123456789"))
case("BR-CO-10", "fires", "line-sum", "the sum of line amounts is 0.01 off", B, ("set", LMT + "/cbc:LineExtensionAmount", "1000.01"))
case("BR-CO-10", "passes", "credit-note", "credit note lines are summed as well", "creditnote-S")
case("BR-CO-10", "passes", "exact-decimals", "0.10 + 0.20 = 0.30 exactly (no binary floating point)", B,
     ("set", L1 + "/cbc:LineExtensionAmount", "0.10"), ("set", "cac:InvoiceLine[2]/cbc:LineExtensionAmount", "0.20"), ("set", LMT + "/cbc:LineExtensionAmount", "0.30"))
case("BR-CO-11", "fires", "allowance-sum", "the allowance total does not match", B, ("set", LMT + "/cbc:AllowanceTotalAmount", "11.00"))
case("BR-CO-11", "fires", "missing-total", "allowances without an allowance total", B, ("del", LMT + "/cbc:AllowanceTotalAmount"))
case("BR-CO-12", "fires", "charge-sum", "the charge total does not match", B, ("set", LMT + "/cbc:ChargeTotalAmount", "19.99"))
case("BR-CO-12", "passes", "no-charges", "no charges and no charge total", B, ("del", CHG), ("del", LMT + "/cbc:ChargeTotalAmount"),
     ("set", LMT + "/cbc:TaxExclusiveAmount", "990.00"), ("set", BD + "/cbc:TaxableAmount", "990.00"))
case("BR-CO-13", "fires", "tax-exclusive", "the total without VAT is not lines - allowances + charges", B, ("set", LMT + "/cbc:TaxExclusiveAmount", "1000.00"))
case("BR-CO-13", "passes", "no-allowances-charges", "without allowances and charges the total without VAT is the line sum", B,
     ("del", "cac:AllowanceCharge"), ("del", LMT + "/cbc:AllowanceTotalAmount"), ("del", LMT + "/cbc:ChargeTotalAmount"), ("set", LMT + "/cbc:TaxExclusiveAmount", "1000.00"))
case("BR-CO-14", "fires", "tax-total", "the total VAT is not the sum of the breakdown", B, ("set", "cac:TaxTotal/cbc:TaxAmount", "252.00"))
case("BR-CO-14", "fires", "credit-note", "on a credit note too", "creditnote-S", ("set", "cac:TaxTotal/cbc:TaxAmount", "252.00"))
case("BR-CO-15", "fires", "tax-inclusive", "the total with VAT is not total without VAT + VAT", B, ("set", LMT + "/cbc:TaxInclusiveAmount", "1262.51"), ("set", LMT + "/cbc:PayableAmount", "1262.51"))
case("BR-CO-15", "fires", "two-tax-totals", "two VAT totals in the document currency (the official rule wants exactly one)", B, ("add", ".", "<cac:TaxTotal><cbc:TaxAmount currencyID=\"EUR\">0.00</cbc:TaxAmount></cac:TaxTotal>"))
case("BR-CO-15", "passes", "accounting-currency-total", "a second VAT total in the VAT accounting currency does not count", B, ("add", ".", "<cac:TaxTotal><cbc:TaxAmount currencyID=\"SEK\">2900.00</cbc:TaxAmount></cac:TaxTotal>"))
case("BR-CO-16", "fires", "payable", "the amount due is not total - paid + rounding", B, ("set", LMT + "/cbc:PayableAmount", "1262.00"))
case("BR-CO-16", "passes", "prepaid-rounding", "a paid amount and a rounding amount", B,
     ("add", LMT, "<cbc:PrepaidAmount currencyID=\"EUR\">262.50</cbc:PrepaidAmount><cbc:PayableRoundingAmount currencyID=\"EUR\">0.40</cbc:PayableRoundingAmount>"), ("set", LMT + "/cbc:PayableAmount", "1000.40"))
case("BR-CO-16", "fires", "prepaid-ignored", "a paid amount not deducted", B, ("add", LMT, "<cbc:PrepaidAmount currencyID=\"EUR\">262.50</cbc:PrepaidAmount>"))
case("BR-CO-17", "fires", "tax-amount", "the breakdown tax amount is more than 1 off taxable x rate", B, ("set", BD + "/cbc:TaxAmount", "254.00"), ("set", "cac:TaxTotal/cbc:TaxAmount", "254.00"))
case("BR-CO-17", "passes", "within-tolerance", "a breakdown tax amount within the tolerance", B, ("set", BD + "/cbc:TaxAmount", "252.90"), ("set", "cac:TaxTotal/cbc:TaxAmount", "252.90"))
case("BR-CO-18", "fires", "no-breakdown", "no VAT breakdown", B, ("del", BD))
case("BR-CO-25", "fires", "no-terms", "a positive amount due without due date or terms", B, ("del", "cbc:DueDate"), ("del", "cac:PaymentTerms"))
case("BR-CO-25", "passes", "credit-note", "not applied to credit notes", "creditnote-S", ("del", "cac:PaymentTerms"))
case("BR-CO-26", "fires", "no-seller-ids", "a seller without any identifier", B, ("del", SUP + "/cac:PartyIdentification"), ("del", SUP + "/cac:PartyTaxScheme"), ("del", SUP + "/cac:PartyLegalEntity/cbc:CompanyID"))
case("BR-CO-26", "passes", "identifier-only", "a seller identifier alone is enough", B, ("del", SUP + "/cac:PartyTaxScheme"), ("del", SUP + "/cac:PartyLegalEntity/cbc:CompanyID"))
for r, path, v in (("BR-DEC-01", ALW + "/cbc:Amount", None), ("BR-DEC-05", CHG + "/cbc:Amount", None)):
	case(r, "fires", "three-decimals", "an amount with 3 decimals", B, ("set", path, "10.001"))
for r, ac in (("BR-DEC-02", ALW), ("BR-DEC-06", CHG)):
	case(r, "fires", "base-three-decimals", "a base amount with 3 decimals", B, ("add", ac, "<cbc:BaseAmount currencyID=\"EUR\">100.001</cbc:BaseAmount>"))
	case(r, "passes", "base-two-decimals", "a base amount with 2 decimals", B, ("add", ac, "<cbc:BaseAmount currencyID=\"EUR\">100.00</cbc:BaseAmount>"))
for r, el in (("BR-DEC-09", "LineExtensionAmount"), ("BR-DEC-10", "AllowanceTotalAmount"), ("BR-DEC-11", "ChargeTotalAmount"),
	      ("BR-DEC-12", "TaxExclusiveAmount"), ("BR-DEC-14", "TaxInclusiveAmount"), ("BR-DEC-18", "PayableAmount")):
	case(r, "fires", "three-decimals", "cbc:%s with 3 decimals" % el, B, ("set", LMT + "/cbc:" + el, "1.001"))
case("BR-DEC-16", "fires", "three-decimals", "a paid amount with 3 decimals", B, ("add", LMT, "<cbc:PrepaidAmount currencyID=\"EUR\">0.001</cbc:PrepaidAmount>"))
case("BR-DEC-17", "fires", "three-decimals", "a rounding amount with 3 decimals", B, ("add", LMT, "<cbc:PayableRoundingAmount currencyID=\"EUR\">0.001</cbc:PayableRoundingAmount>"))
case("BR-DEC-13", "fires", "three-decimals", "the total VAT with 3 decimals", B, ("set", "cac:TaxTotal/cbc:TaxAmount", "252.500"))
case("BR-DEC-15", "fires", "three-decimals", "the total VAT in accounting currency with 3 decimals", B, ("add", ".", "<cbc:TaxCurrencyCode>SEK</cbc:TaxCurrencyCode><cac:TaxTotal><cbc:TaxAmount currencyID=\"SEK\">2900.001</cbc:TaxAmount></cac:TaxTotal>"))
case("BR-DEC-15", "passes", "two-decimals", "the total VAT in accounting currency with 2 decimals", B, ("add", ".", "<cbc:TaxCurrencyCode>SEK</cbc:TaxCurrencyCode><cac:TaxTotal><cbc:TaxAmount currencyID=\"SEK\">2900.00</cbc:TaxAmount></cac:TaxTotal>"))
case("BR-DEC-19", "fires", "three-decimals", "a taxable amount with 3 decimals", B, ("set", BD + "/cbc:TaxableAmount", "1010.001"))
case("BR-DEC-20", "fires", "three-decimals", "a category tax amount with 3 decimals", B, ("set", BD + "/cbc:TaxAmount", "252.501"))
case("BR-DEC-23", "fires", "three-decimals", "a line net amount with 3 decimals", B, ("set", L1 + "/cbc:LineExtensionAmount", "600.001"))

# ---- the same rules on credit notes (cac:CreditNoteLine, cbc:CreditedQuantity) ----
CN1 = "cac:CreditNoteLine[1]"
CNB = "creditnote-S"
for r, op, what in (("BR-21", ("set", CN1 + "/cbc:ID", ""), "a credit note line with an empty identifier"),
		    ("BR-22", ("del", CN1 + "/cbc:CreditedQuantity"), "a credit note line without a quantity"),
		    ("BR-24", ("del", CN1 + "/cbc:LineExtensionAmount"), "a credit note line without a net amount"),
		    ("BR-25", ("del", CN1 + "/cac:Item/cbc:Name"), "a credit note item without a name"),
		    ("BR-26", ("del", CN1 + "/cac:Price/cbc:PriceAmount"), "a credit note line without a price"),
		    ("BR-27", ("set", CN1 + "/cac:Price/cbc:PriceAmount", "-1"), "a negative credit note price"),
		    ("BR-CO-04", ("del", CN1 + "/cac:Item/cac:ClassifiedTaxCategory"), "a credit note line without a VAT category"),
		    ("BR-CO-10", ("set", LMT + "/cbc:LineExtensionAmount", "999.99"), "credit note line sum off by 0.01"),
		    ("BR-DEC-23", ("set", CN1 + "/cbc:LineExtensionAmount", "600.001"), "a credit note line amount with 3 decimals"),
		    ("BR-S-05", ("set", CN1 + "/cac:Item/cac:ClassifiedTaxCategory/cbc:Percent", "0"), "a standard rated credit note line at 0 %"),
		    ("BR-S-08", ("set", BD + "/cbc:TaxableAmount", "1100.00"), "a credit note breakdown taxable amount off by 90"),
		    ("BR-CL-01", ("set", "cbc:CreditNoteTypeCode", "380"), "an invoice type code as credit note type code"),
		    ("BR-CL-23", ("attr", CN1 + "/cbc:CreditedQuantity", "unitCode", "PIECES"), "a credited quantity with an unknown unit")):
	case(r, "fires", "credit-note", what, CNB, op)
case("BR-Z-08", "fires", "credit-note", "a zero rated credit note breakdown off by 0.01", "creditnote-Z", ("set", BD + "/cbc:TaxableAmount", "1010.01"))
case("BR-Z-05", "fires", "credit-note", "a zero rated credit note line at 25 %", "creditnote-Z", ("set", CN1 + "/cac:Item/cac:ClassifiedTaxCategory/cbc:Percent", "25"))

# ---- VAT categories: each family from its own clean base ----
FAMS = {"S": "BR-S", "Z": "BR-Z", "E": "BR-E", "AE": "BR-AE", "K": "BR-IC", "G": "BR-G", "O": "BR-O", "L": "BR-IG", "M": "BR-IP"}
for cat, pre in FAMS.items():
	b = "invoice-" + cat
	other = "Z" if cat != "Z" else "E"
	if cat in ("S", "L", "M"):
		case(pre + "-01", "fires", "no-breakdown", "lines in the category but no breakdown in it", b, ("set", BD + "/cac:TaxCategory/cbc:ID", other))
	else:
		case(pre + "-01", "fires", "two-breakdowns", "two breakdowns in the category", b, ("add", "cac:TaxTotal", "<cac:TaxSubtotal><cbc:TaxableAmount currencyID=\"EUR\">0</cbc:TaxableAmount><cbc:TaxAmount currencyID=\"EUR\">0</cbc:TaxAmount><cac:TaxCategory>%s</cac:TaxCategory></cac:TaxSubtotal>" % tc(cat)))
	if cat == "O":
		for n, where in (("02", L1 + "/cac:Item/cac:ClassifiedTaxCategory"), ("03", ALW + "/cac:TaxCategory"), ("04", CHG + "/cac:TaxCategory")):
			case(pre + "-" + n, "fires", "seller-vat", "category O with a seller VAT identifier", b,
			     ("add", SUP, "<cac:PartyTaxScheme><cbc:CompanyID>SE123456789001</cbc:CompanyID><cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme></cac:PartyTaxScheme>"))
	else:
		drop = [("del", SUP + "/cac:PartyTaxScheme")]
		if cat == "K":
			drop = [("del", BUY + "/cac:PartyTaxScheme")]
		if cat == "AE":
			drop = [("del", BUY + "/cac:PartyTaxScheme"), ("del", BUY + "/cac:PartyLegalEntity/cbc:CompanyID")]
		for n in ("02", "03", "04"):
			case(pre + "-" + n, "fires", "missing-vat-id", "the category without the VAT identifiers it needs", b, *drop)
		if cat in ("S", "Z", "E", "L", "M", "AE"):
			case(pre + "-02", "passes", "tax-registration", "a seller tax registration (non-VAT scheme) is enough", b,
			     ("set", SUP + "/cac:PartyTaxScheme/cac:TaxScheme/cbc:ID", "TAX"), ("set", SUP + "/cac:PartyTaxScheme/cbc:CompanyID", "SE-REG-1"))
	if cat == "S":
		bad = "0"
	elif cat in ("L", "M"):
		bad = "-1"
	elif cat == "O":
		bad = None
	else:
		bad = "25"
	for n, path in (("05", L1 + "/cac:Item/cac:ClassifiedTaxCategory"), ("06", ALW + "/cac:TaxCategory"), ("07", CHG + "/cac:TaxCategory")):
		if bad is None:
			case(pre + "-" + n, "fires", "rate", "a rate where category O has none", b, ("add", path, "<cbc:Percent>0</cbc:Percent>"))
		else:
			case(pre + "-" + n, "fires", "rate", "a rate of %s in category %s" % (bad, cat), b, ("set", path + "/cbc:Percent", bad))
	if cat in ("S", "L", "M"):
		case(pre + "-08", "fires", "taxable", "the taxable amount is more than 1 off", b, ("set", BD + "/cbc:TaxableAmount", "1012.00"))
		case(pre + "-08", "passes", "within-one", "the taxable amount is within 1 of the sum", b, ("set", BD + "/cbc:TaxableAmount", "1010.50"))
		tax = "%.2f" % (1010 * int(RATE[cat]) / 100 + 2)
		case(pre + "-09", "fires", "tax", "the tax amount is 2 off", b, ("set", BD + "/cbc:TaxAmount", tax))
		case(pre + "-10", "fires", "exemption", "an exemption reason in a taxed category", b, ("add", BD + "/cac:TaxCategory", "<cbc:TaxExemptionReason>None</cbc:TaxExemptionReason>"))
	else:
		case(pre + "-08", "fires", "taxable", "the taxable amount is off by 0.01", b, ("set", BD + "/cbc:TaxableAmount", "1010.01"))
		case(pre + "-08", "passes", "credit-note", "the credit note variant", "creditnote-Z" if cat == "Z" else b)
		case(pre + "-09", "fires", "tax", "a tax amount in a zero category", b, ("set", BD + "/cbc:TaxAmount", "1.00"))
		if cat == "Z":
			case(pre + "-10", "fires", "exemption", "an exemption reason on zero rate", b, ("add", BD + "/cac:TaxCategory", "<cbc:TaxExemptionReason>No</cbc:TaxExemptionReason>"))
		else:
			case(pre + "-10", "fires", "no-exemption", "no exemption reason", b, ("del", BD + "/cac:TaxCategory/cbc:TaxExemptionReason"))
			case(pre + "-10", "passes", "code", "an exemption reason code instead of text", b, ("del", BD + "/cac:TaxCategory/cbc:TaxExemptionReason"),
			     ("add", BD + "/cac:TaxCategory", "<cbc:TaxExemptionReasonCode>VATEX-EU-O</cbc:TaxExemptionReasonCode>"))
OB = "invoice-O"
ZBD = "<cac:TaxSubtotal><cbc:TaxableAmount currencyID=\"EUR\">0</cbc:TaxableAmount><cbc:TaxAmount currencyID=\"EUR\">0</cbc:TaxAmount><cac:TaxCategory>%s</cac:TaxCategory></cac:TaxSubtotal>" % tc("Z")
case("BR-O-11", "fires", "other-breakdown", "an O breakdown next to another one", OB, ("add", "cac:TaxTotal", ZBD))
case("BR-O-12", "fires", "other-line", "an O breakdown with a line in another category", OB, ("set", L1 + "/cac:Item/cac:ClassifiedTaxCategory/cbc:ID", "Z"))
case("BR-O-13", "fires", "other-allowance", "an O breakdown with an allowance in another category", OB, ("set", ALW + "/cac:TaxCategory/cbc:ID", "Z"))
case("BR-O-14", "fires", "other-charge", "an O breakdown with a charge in another category", OB, ("set", CHG + "/cac:TaxCategory/cbc:ID", "Z"))
case("BR-IC-11", "fires", "no-date", "intra-community supply without delivery date or period", "invoice-K", ("del", "cac:Delivery/cbc:ActualDeliveryDate"))
case("BR-IC-11", "passes", "period", "an invoicing period instead of a delivery date", "invoice-K", ("del", "cac:Delivery/cbc:ActualDeliveryDate"), ("add", ".", PERIOD))
case("BR-IC-12", "fires", "no-country", "intra-community supply without deliver-to country", "invoice-K", ("del", "cac:Delivery/cac:DeliveryLocation/cac:Address/cac:Country"))
case("BR-B-01", "fires", "foreign-buyer", "split payment with a buyer outside Italy", "invoice-B", ("set", BUY + "/cac:PostalAddress/cac:Country/cbc:IdentificationCode", "FR"))
case("BR-B-02", "fires", "with-standard", "split payment next to a standard rated line", "invoice-B", ("set", L1 + "/cac:Item/cac:ClassifiedTaxCategory/cbc:ID", "S"))
LCAT = "cac:InvoiceLine/cac:Item/cac:ClassifiedTaxCategory/cbc:ID"
ACAT = "cac:AllowanceCharge/cac:TaxCategory/cbc:ID"
case("BR-B-01", "fires", "origin-country", "split payment, an item origin country outside Italy (every cbc:IdentificationCode counts)", "invoice-B",
     ("add", L1 + "/cac:Item", "<cac:OriginCountry><cbc:IdentificationCode>DE</cbc:IdentificationCode></cac:OriginCountry>"))
case("BR-B-01", "fires", "breakdown-only", "split payment named only in the VAT breakdown, a buyer outside Italy", "invoice-B",
     ("set", LCAT, "E"), ("set", ACAT, "E"), ("set", BUY + "/cac:PostalAddress/cac:Country/cbc:IdentificationCode", "FR"))
case("BR-B-01", "passes", "all-italian", "split payment, every country code (addresses and item origin) is IT", "invoice-B",
     ("add", L1 + "/cac:Item", "<cac:OriginCountry><cbc:IdentificationCode>IT</cbc:IdentificationCode></cac:OriginCountry>"))
case("BR-B-02", "fires", "breakdown-b-lines-s", "split payment in the VAT breakdown, lines and allowances/charges standard rated", "invoice-B",
     ("set", LCAT, "S"), ("set", ACAT, "S"))
case("BR-B-02", "passes", "breakdown-s-only", "split payment lines next to a breakdown in S: the rule names lines, allowances and charges only", "invoice-B",
     ("add", "cac:TaxTotal", "<cac:TaxSubtotal><cbc:TaxableAmount currencyID=\"EUR\">0.00</cbc:TaxableAmount><cbc:TaxAmount currencyID=\"EUR\">0.00</cbc:TaxAmount><cac:TaxCategory><cbc:ID>S</cbc:ID><cbc:Percent>22</cbc:Percent><cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme></cac:TaxCategory></cac:TaxSubtotal>"))
DEFAULT_BASE = {}
for cat, pre in FAMS.items():
	for n in range(1, 15):
		DEFAULT_BASE["%s-%02d" % (pre, n)] = "invoice-" + cat
DEFAULT_BASE["BR-B-01"] = DEFAULT_BASE["BR-B-02"] = "invoice-B"

# ---- code lists ----
C = [("BR-CL-01", ("set", "cbc:InvoiceTypeCode", "999")), ("BR-CL-03", ("attr", LMT + "/cbc:PayableAmount", "currencyID", "EURO")),
     ("BR-CL-04", ("set", "cbc:DocumentCurrencyCode", "XYZ")), ("BR-CL-05", ("add", ".", "<cbc:TaxCurrencyCode>ABC</cbc:TaxCurrencyCode>")),
     ("BR-CL-06", ("add", ".", "<cac:InvoicePeriod><cbc:DescriptionCode>5</cbc:DescriptionCode></cac:InvoicePeriod>")),
     ("BR-CL-07", ("add", ".", "<cac:AdditionalDocumentReference><cbc:ID schemeID=\"QQQ\">X</cbc:ID><cbc:DocumentTypeCode>130</cbc:DocumentTypeCode></cac:AdditionalDocumentReference>")),
     ("BR-CL-08", ("add", ".", "<cbc:Note>#QQQ#Text</cbc:Note>")),
     ("BR-CL-10", ("attr", BUY + "/cac:PartyIdentification/cbc:ID", "schemeID", "SEPA")),
     ("BR-CL-11", ("attr", SUP + "/cac:PartyLegalEntity/cbc:CompanyID", "schemeID", "9999")),
     ("BR-CL-13", ("add", L1 + "/cac:Item", "<cac:CommodityClassification><cbc:ItemClassificationCode listID=\"QQ\">1</cbc:ItemClassificationCode></cac:CommodityClassification>")),
     ("BR-CL-14", ("set", SUP + "/cac:PostalAddress/cac:Country/cbc:IdentificationCode", "UK")),
     ("BR-CL-15", ("add", L1 + "/cac:Item", "<cac:OriginCountry><cbc:IdentificationCode>XX</cbc:IdentificationCode></cac:OriginCountry>")),
     ("BR-CL-16", ("set", "cac:PaymentMeans/cbc:PaymentMeansCode", "99")),
     ("BR-CL-17", ("set", ALW + "/cac:TaxCategory/cbc:ID", "X")),
     ("BR-CL-18", ("set", L1 + "/cac:Item/cac:ClassifiedTaxCategory/cbc:ID", "X")),
     ("BR-CL-19", ("add", ALW, "<cbc:AllowanceChargeReasonCode>FC</cbc:AllowanceChargeReasonCode>")),
     ("BR-CL-20", ("add", CHG, "<cbc:AllowanceChargeReasonCode>95</cbc:AllowanceChargeReasonCode>")),
     ("BR-CL-21", ("add", L1 + "/cac:Item", "<cac:StandardItemIdentification><cbc:ID schemeID=\"GTIN\">1</cbc:ID></cac:StandardItemIdentification>")),
     ("BR-CL-22", ("add", BD + "/cac:TaxCategory", "<cbc:TaxExemptionReasonCode>VATEX-XX-1</cbc:TaxExemptionReasonCode>")),
     ("BR-CL-23", ("attr", L1 + "/cbc:InvoicedQuantity", "unitCode", "PIECES")),
     ("BR-CL-24", ("add", ".", "<cac:AdditionalDocumentReference><cbc:ID>A</cbc:ID><cac:Attachment><cbc:EmbeddedDocumentBinaryObject mimeCode=\"application/zip\" filename=\"a.zip\">AA==</cbc:EmbeddedDocumentBinaryObject></cac:Attachment></cac:AdditionalDocumentReference>")),
     ("BR-CL-25", ("attr", SUP + "/cbc:EndpointID", "schemeID", "0001")),
     ("BR-CL-26", ("add", "cac:Delivery/cac:DeliveryLocation", "<cbc:ID schemeID=\"XXXX\">L1</cbc:ID>"))]
for r, op in C:
	case(r, "fires", "bad-code", "a code outside the list", B, op)
CP = [("BR-CL-01", "creditnote-S"), ("BR-CL-08", B, ("add", ".", "<cbc:Note>#AAI#General information</cbc:Note>")),
      ("BR-CL-10", B, ("attr", SUP + "/cac:PartyIdentification/cbc:ID", "schemeID", "SEPA")),
      ("BR-CL-22", B, ("add", BD + "/cac:TaxCategory", "<cbc:TaxExemptionReasonCode>vatex-eu-o</cbc:TaxExemptionReasonCode>")),
      ("BR-CL-23", B, ("attr", L1 + "/cbc:InvoicedQuantity", "unitCode", "XBX")),
      ("BR-CL-24", B, ("add", ".", "<cac:AdditionalDocumentReference><cbc:ID>A</cbc:ID><cac:Attachment><cbc:EmbeddedDocumentBinaryObject mimeCode=\"application/pdf\" filename=\"a.pdf\">AA==</cbc:EmbeddedDocumentBinaryObject></cac:Attachment></cac:AdditionalDocumentReference>")),
      ("BR-CL-26", B, ("add", "cac:Delivery/cac:DeliveryLocation", "<cbc:ID schemeID=\"0088\">7300010000001</cbc:ID>")),
      ("BR-CL-19", B, ("add", ALW, "<cbc:AllowanceChargeReasonCode>95</cbc:AllowanceChargeReasonCode>")),
      ("BR-CL-20", B, ("add", CHG, "<cbc:AllowanceChargeReasonCode>FC</cbc:AllowanceChargeReasonCode>"))]
for r, b, *ops in CP:
	case(r, "passes", "good-code", "a code from the list", b, *ops)

# ---- syntax: UBL-SR, UBL-DT ----
SR = [("UBL-SR-01", ".", "<cac:ContractDocumentReference><cbc:ID>C1</cbc:ID></cac:ContractDocumentReference>", 2),
      ("UBL-SR-02", ".", "<cac:ReceiptDocumentReference><cbc:ID>R1</cbc:ID></cac:ReceiptDocumentReference>", 2),
      ("UBL-SR-03", ".", "<cac:DespatchDocumentReference><cbc:ID>D1</cbc:ID></cac:DespatchDocumentReference>", 2),
      ("UBL-SR-04", ".", "<cac:AdditionalDocumentReference><cbc:ID>O1</cbc:ID><cbc:DocumentTypeCode>130</cbc:DocumentTypeCode></cac:AdditionalDocumentReference>", 2),
      ("UBL-SR-05", "cac:PaymentTerms", "<cbc:Note>more terms</cbc:Note>", 1),
      ("UBL-SR-08", ".", "<cac:InvoicePeriod><cbc:StartDate>2024-02-01</cbc:StartDate></cac:InvoicePeriod>", 2),
      ("UBL-SR-09", SUP + "/cac:PartyLegalEntity", "<cbc:RegistrationName>Other</cbc:RegistrationName>", 1),
      ("UBL-SR-10", SUP, "<cac:PartyName><cbc:Name>Other</cbc:Name></cac:PartyName>", 1),
      ("UBL-SR-11", SUP + "/cac:PartyLegalEntity", "<cbc:CompanyID>2</cbc:CompanyID>", 1),
      ("UBL-SR-12", SUP, "<cac:PartyTaxScheme><cbc:CompanyID>SE2</cbc:CompanyID><cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme></cac:PartyTaxScheme>", 1),
      ("UBL-SR-13", SUP, "<cac:PartyTaxScheme><cbc:CompanyID>T1</cbc:CompanyID><cac:TaxScheme><cbc:ID>TAX</cbc:ID></cac:TaxScheme></cac:PartyTaxScheme><cac:PartyTaxScheme><cbc:CompanyID>T2</cbc:CompanyID><cac:TaxScheme><cbc:ID>TAX</cbc:ID></cac:TaxScheme></cac:PartyTaxScheme>", 0),
      ("UBL-SR-14", SUP + "/cac:PartyLegalEntity", "<cbc:CompanyLegalForm>A</cbc:CompanyLegalForm><cbc:CompanyLegalForm>B</cbc:CompanyLegalForm>", 0),
      ("UBL-SR-15", BUY + "/cac:PartyLegalEntity", "<cbc:RegistrationName>Other</cbc:RegistrationName>", 1),
      ("UBL-SR-16", BUY + "/cac:PartyIdentification", "<cbc:ID>2</cbc:ID>", 1),
      ("UBL-SR-17", BUY + "/cac:PartyLegalEntity", "<cbc:CompanyID>2</cbc:CompanyID>", 1),
      ("UBL-SR-18", BUY, "<cac:PartyTaxScheme><cbc:CompanyID>SE2</cbc:CompanyID><cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme></cac:PartyTaxScheme>", 1),
      ("UBL-SR-24", ".", "<cac:Delivery><cbc:ActualDeliveryDate>2024-02-28</cbc:ActualDeliveryDate></cac:Delivery>", 1),
      ("UBL-SR-25", "cac:Delivery", "<cac:DeliveryParty><cac:PartyName><cbc:Name>A</cbc:Name></cac:PartyName><cac:PartyName><cbc:Name>B</cbc:Name></cac:PartyName></cac:DeliveryParty>", 0),
      ("UBL-SR-29", SUP, "<cac:PartyIdentification><cbc:ID schemeID=\"SEPA\">S1</cbc:ID></cac:PartyIdentification>", 2),
      ("UBL-SR-30", ALW, "<cbc:AllowanceChargeReason>Again</cbc:AllowanceChargeReason>", 1),
      ("UBL-SR-31", CHG, "<cbc:AllowanceChargeReason>Again</cbc:AllowanceChargeReason>", 1),
      ("UBL-SR-34", L1, "<cbc:Note>n</cbc:Note>", 2),
      ("UBL-SR-35", L1, "<cac:OrderLineReference><cbc:LineID>1</cbc:LineID></cac:OrderLineReference>", 2),
      ("UBL-SR-36", L1, "<cac:InvoicePeriod><cbc:StartDate>2024-02-01</cbc:StartDate></cac:InvoicePeriod>", 2),
      ("UBL-SR-37", L1 + "/cac:Price", "<cac:AllowanceCharge><cbc:ChargeIndicator>false</cbc:ChargeIndicator><cbc:Amount currencyID=\"EUR\">1.00</cbc:Amount></cac:AllowanceCharge>", 2),
      ("UBL-SR-38", L1 + "/cac:Item/cac:ClassifiedTaxCategory", "<cbc:TaxExemptionReason>r</cbc:TaxExemptionReason>", 2),
      ("UBL-SR-39", ".", "<cac:ProjectReference><cbc:ID>P1</cbc:ID></cac:ProjectReference>", 2),
      ("UBL-SR-40", BUY, "<cac:PartyName><cbc:Name>Other</cbc:Name></cac:PartyName>", 1),
      ("UBL-SR-42", SUP, "<cac:PartyTaxScheme><cbc:CompanyID>T1</cbc:CompanyID><cac:TaxScheme><cbc:ID>TAX</cbc:ID></cac:TaxScheme></cac:PartyTaxScheme>", 2),
      ("UBL-SR-45", "cac:PaymentMeans", "<cbc:PaymentDueDate>2024-03-31</cbc:PaymentDueDate>", 2),
      ("UBL-SR-26", "cac:PaymentMeans", "<cbc:PaymentID>P1</cbc:PaymentID>", 2),
      ("UBL-SR-27", "cac:PaymentMeans", "<cbc:PaymentMeansCode>58</cbc:PaymentMeansCode>", 1),
      ("UBL-SR-28", "cac:PaymentMeans", "<cac:PaymentMandate><cbc:ID>M1</cbc:ID></cac:PaymentMandate>", 2),
      ("UBL-SR-32", BD + "/cac:TaxCategory", "<cbc:TaxExemptionReason>r</cbc:TaxExemptionReason>", 2),
      ("UBL-SR-48", L1 + "/cac:Item", "<cac:ClassifiedTaxCategory><cbc:ID>S</cbc:ID><cbc:Percent>25</cbc:Percent><cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme></cac:ClassifiedTaxCategory>", 1),
      ("UBL-SR-49", ".", "<cac:InvoicePeriod><cbc:DescriptionCode>3</cbc:DescriptionCode><cbc:DescriptionCode>35</cbc:DescriptionCode></cac:InvoicePeriod>", 0),
      ("UBL-SR-50", L1 + "/cac:Item", "<cbc:Description>d</cbc:Description>", 2),
      ("UBL-SR-51", SUP + "/cac:PostalAddress", "<cac:AddressLine><cbc:Line>Building 3</cbc:Line></cac:AddressLine>", 2),
      ("UBL-SR-52", L1, "<cac:DocumentReference><cbc:ID>X</cbc:ID><cbc:DocumentTypeCode>130</cbc:DocumentTypeCode></cac:DocumentReference>", 2)]
for r, parent, fr, times in SR:
	if times == 0:
		case(r, "fires", "repeated", "the element repeated", B, ("add", parent, fr))
	else:
		case(r, "fires", "repeated", "the element repeated", B, *([("add", parent, fr)] * (times if times > 1 else 1)))
		if times > 1:
			case(r, "passes", "once", "the element once", B, ("add", parent, fr))
case("UBL-SR-06", "fires", "two-references", "a billing reference holding two preceding invoice references", B, ("add", ".", "<cac:BillingReference><cac:InvoiceDocumentReference><cbc:ID>I1</cbc:ID></cac:InvoiceDocumentReference><cac:InvoiceDocumentReference><cbc:ID>I2</cbc:ID></cac:InvoiceDocumentReference></cac:BillingReference>"))
case("UBL-SR-06", "passes", "two-billing-references", "two billing references with one preceding invoice each (the rule counts per billing reference)", B, ("add", ".", "<cac:BillingReference><cac:InvoiceDocumentReference><cbc:ID>I1</cbc:ID></cac:InvoiceDocumentReference></cac:BillingReference>"), ("add", ".", "<cac:BillingReference><cac:InvoiceDocumentReference><cbc:ID>I2</cbc:ID></cac:InvoiceDocumentReference></cac:BillingReference>"))
case("UBL-SR-27", "passes", "instruction-notes", "two payment means texts in cbc:InstructionNote: the current rule counts payment means codes (BT-82 is the code's @name, UBL-SR-46)", B, ("add", "cac:PaymentMeans", "<cbc:InstructionNote>a</cbc:InstructionNote>"), ("add", "cac:PaymentMeans", "<cbc:InstructionNote>b</cbc:InstructionNote>"))
case("UBL-SR-48", "fires", "no-category", "a line without a classified tax category", B, ("del", L1 + "/cac:Item/cac:ClassifiedTaxCategory"))
case("UBL-SR-53", "fires", "no-company-id", "a seller party tax scheme with a tax scheme but no identifier", B, ("add", SUP, "<cac:PartyTaxScheme><cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme></cac:PartyTaxScheme>"))
case("UBL-SR-53", "fires", "no-tax-scheme-id", "a party tax scheme without a tax scheme identifier", B, ("del", SUP + "/cac:PartyTaxScheme/cac:TaxScheme/cbc:ID"))
CRADR = "<cac:AdditionalDocumentReference><cbc:ID>A1</cbc:ID>%s%s</cac:AdditionalDocumentReference>"
CRATT = "<cac:Attachment><cbc:EmbeddedDocumentBinaryObject mimeCode=\"application/pdf\" filename=\"a.pdf\">AA==</cbc:EmbeddedDocumentBinaryObject></cac:Attachment>"
case("UBL-CR-666", "fires", "object-attachment", "an invoiced object reference (130) with an attachment", B, ("add", ".", CRADR % ("<cbc:DocumentTypeCode>130</cbc:DocumentTypeCode>", CRATT)))
case("UBL-CR-666", "passes", "document-attachment", "a supporting document with an attachment", B, ("add", ".", CRADR % ("", CRATT)))
case("UBL-CR-673", "fires", "object-description", "an invoiced object reference (130) with a document description", B, ("add", ".", CRADR % ("<cbc:DocumentTypeCode>130</cbc:DocumentTypeCode>", "<cbc:DocumentDescription>d</cbc:DocumentDescription>")))
case("UBL-CR-673", "passes", "document-description", "a supporting document with a description", B, ("add", ".", CRADR % ("", "<cbc:DocumentDescription>d</cbc:DocumentDescription>")))
case("UBL-CR-665", "passes", "object-scheme", "the identifier of an invoiced object (130) may have a scheme", B, ("add", ".", "<cac:AdditionalDocumentReference><cbc:ID schemeID=\"ABT\">A1</cbc:ID><cbc:DocumentTypeCode>130</cbc:DocumentTypeCode></cac:AdditionalDocumentReference>"))
case("UBL-SR-07", "fires", "no-id", "a billing reference without the preceding invoice number", B, ("add", ".", "<cac:BillingReference><cac:InvoiceDocumentReference><cbc:IssueDate>2024-01-01</cbc:IssueDate></cac:InvoiceDocumentReference></cac:BillingReference>"))
case("UBL-SR-07", "passes", "id", "a billing reference with the number", B, ("add", ".", "<cac:BillingReference><cac:InvoiceDocumentReference><cbc:ID>I0</cbc:ID></cac:InvoiceDocumentReference></cac:BillingReference>"))
for r in ("UBL-SR-19", "UBL-SR-20", "UBL-SR-21"):
	case(r, "fires", "payee-is-seller", "a payee named like the seller", B, ("add", ".", "<cac:PayeeParty><cac:PartyName><cbc:Name>Seller AB</cbc:Name></cac:PartyName></cac:PayeeParty>"))
	case(r, "passes", "payee", "a payee with its own name", B, ("add", ".", PAYEE_OK))
TRP = "<cac:TaxRepresentativeParty><cac:PartyName><cbc:Name>R</cbc:Name></cac:PartyName><cac:PartyTaxScheme><cbc:CompanyID>SE1</cbc:CompanyID><cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme></cac:PartyTaxScheme></cac:TaxRepresentativeParty>"
case("UBL-SR-22", "fires", "two-names", "a tax representative with two names", B, ("add", ".", TRP), ("add", "cac:TaxRepresentativeParty", "<cac:PartyName><cbc:Name>R2</cbc:Name></cac:PartyName>"))
case("UBL-SR-23", "fires", "two-vat", "a tax representative with two VAT identifiers", B, ("add", ".", TRP), ("add", "cac:TaxRepresentativeParty", "<cac:PartyTaxScheme><cbc:CompanyID>SE2</cbc:CompanyID><cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme></cac:PartyTaxScheme>"))
for r in ("UBL-SR-22", "UBL-SR-23"):
	case(r, "passes", "one", "a tax representative with one name and VAT identifier", B, ("add", ".", TRP))
case("UBL-SR-33", "fires", "two-descriptions", "a supporting document with two descriptions (BT-123)", B, ("add", ".", "<cac:AdditionalDocumentReference><cbc:ID>A</cbc:ID><cbc:DocumentDescription>x</cbc:DocumentDescription><cbc:DocumentDescription>y</cbc:DocumentDescription></cac:AdditionalDocumentReference>"))
case("UBL-SR-33", "passes", "one-description", "one description", B, ("add", ".", "<cac:AdditionalDocumentReference><cbc:ID>A</cbc:ID><cbc:DocumentDescription>x</cbc:DocumentDescription></cac:AdditionalDocumentReference>"))
case("UBL-SR-33", "passes", "two-document-types", "two cbc:DocumentType are not descriptions (the official rule counts cbc:DocumentDescription)", B, ("add", ".", "<cac:AdditionalDocumentReference><cbc:ID>A</cbc:ID><cbc:DocumentType>x</cbc:DocumentType><cbc:DocumentType>y</cbc:DocumentType></cac:AdditionalDocumentReference>"))
case("UBL-SR-43", "fires", "scheme", "a scheme on a reference that is no invoiced object", B, ("add", ".", "<cac:AdditionalDocumentReference><cbc:ID schemeID=\"ABT\">A</cbc:ID></cac:AdditionalDocumentReference>"))
case("UBL-SR-43", "passes", "invoiced-object", "a scheme on an invoiced object (130)", B, ("add", ".", "<cac:AdditionalDocumentReference><cbc:ID schemeID=\"ABT\">A</cbc:ID><cbc:DocumentTypeCode>130</cbc:DocumentTypeCode></cac:AdditionalDocumentReference>"))
PM2 = "<cac:PaymentMeans><cbc:PaymentMeansCode>%s</cbc:PaymentMeansCode><cbc:PaymentID>%s</cbc:PaymentID></cac:PaymentMeans>"
case("UBL-SR-44", "fires", "different-ids", "two payment means with different payment ids", B, ("add", "cac:PaymentMeans", "<cbc:PaymentID>A</cbc:PaymentID>"), ("add", ".", PM2 % ("30", "B")))
case("UBL-SR-44", "passes", "equal-ids", "two payment means with the same payment id", B, ("add", "cac:PaymentMeans", "<cbc:PaymentID>A</cbc:PaymentID>"), ("add", ".", PM2 % ("30", "A")))
case("UBL-SR-44", "passes", "three-equal-ids", "three payment means with the same payment id (the official rule counts distinct ids)", B, ("add", "cac:PaymentMeans", "<cbc:PaymentID>A</cbc:PaymentID>"), ("add", ".", PM2 % ("30", "A")), ("add", ".", PM2 % ("30", "A")))
case("UBL-SR-44", "fires", "third-differs", "three payment means, the third with another payment id", B, ("add", "cac:PaymentMeans", "<cbc:PaymentID>A</cbc:PaymentID>"), ("add", ".", PM2 % ("30", "A")), ("add", ".", PM2 % ("30", "B")))
case("UBL-SR-46", "fires", "two-texts", "two payment means texts", B, ("attr", "cac:PaymentMeans/cbc:PaymentMeansCode", "name", "Credit transfer"), ("add", ".", "<cac:PaymentMeans><cbc:PaymentMeansCode name=\"Cash\">30</cbc:PaymentMeansCode></cac:PaymentMeans>"))
case("UBL-SR-46", "passes", "one-text", "one payment means text", B, ("attr", "cac:PaymentMeans/cbc:PaymentMeansCode", "name", "Credit transfer"))
case("UBL-SR-47", "fires", "different-codes", "two payment means with different codes", B, ("add", ".", PM2 % ("58", "B")))
case("UBL-SR-47", "passes", "same-codes", "two payment means with the same code", B, ("add", ".", PM2 % ("30", "B")))
case("UBL-SR-47", "passes", "three-same-codes", "three payment means, all code 30 (the official rule counts distinct codes)", B, ("add", ".", PM2 % ("30", "B")), ("add", ".", PM2 % ("30", "C")))
case("UBL-SR-47", "fires", "third-differs", "three payment means, the third with another code", B, ("add", ".", PM2 % ("30", "B")), ("add", ".", PM2 % ("58", "C")))
case("UBL-DT-01", "fires", "three-decimals", "an amount with three decimals", B, ("set", ALW + "/cbc:Amount", "10.000"))
case("UBL-DT-01", "passes", "price", "a price may have more decimals", B, ("set", L1 + "/cac:Price/cbc:PriceAmount", "60.0000"))
ATT = "<cac:AdditionalDocumentReference><cbc:ID>A</cbc:ID><cac:Attachment>%s</cac:Attachment></cac:AdditionalDocumentReference>"
case("UBL-DT-06", "fires", "no-mime", "an attachment without a MIME code", B, ("add", ".", ATT % "<cbc:EmbeddedDocumentBinaryObject filename=\"a.pdf\">AA==</cbc:EmbeddedDocumentBinaryObject>"))
case("UBL-DT-07", "fires", "no-filename", "an attachment without a file name", B, ("add", ".", ATT % "<cbc:EmbeddedDocumentBinaryObject mimeCode=\"application/pdf\">AA==</cbc:EmbeddedDocumentBinaryObject>"))
for r in ("UBL-DT-06", "UBL-DT-07"):
	case(r, "passes", "complete", "an attachment with MIME code and file name", B, ("add", ".", ATT % "<cbc:EmbeddedDocumentBinaryObject mimeCode=\"application/pdf\" filename=\"a.pdf\">AA==</cbc:EmbeddedDocumentBinaryObject>"))
DT = {"08": "schemeName", "09": "schemeAgencyName", "10": "schemeDataURI", "11": "schemeURI", "12": "format",
      "13": "unitCodeListIdentifier", "14": "unitCodeListAgencyIdentifier", "15": "unitCodeListAgencyName",
      "16": "listAgencyName", "17": "listName", "18": "name", "19": "languageID", "20": "listURI",
      "21": "listSchemeURI", "22": "languageLocaleID", "23": "uri", "24": "currencyCodeListVersionID",
      "25": "characterSetCode", "26": "encodingCode", "27": "schemeAgencyID", "28": "listAgencyID"}
for n, a in DT.items():
	case("UBL-DT-" + n, "fires", "attribute", "the attribute %s" % a, B, ("attr", SUP + "/cbc:EndpointID", a, "x"))
case("UBL-DT-18", "passes", "payment-means-name", "the name attribute on cbc:PaymentMeansCode is allowed", B, ("attr", "cac:PaymentMeans/cbc:PaymentMeansCode", "name", "Credit transfer"))


# ---- UBL-CR: generated from the rule file itself ----
# UBL-CR rules whose test depends on more than the element being there
# (their cases are rows of CASES above).
CR_BY_HAND = {"UBL-CR-666", "UBL-CR-673"}


def cr_cases():
	"""UBL-CR rules: read their contexts from en16931-syntax.sch; fires = a
	small document holding the element (or attribute), passes = the base."""
	path = os.path.join(HERE, "..", "..", "schemas", "rules", "en16931-syntax.sch")
	text = open(path).read()
	out = []
	for ctx, rid in re.findall(r'<rule context="([^"]+)">\s*<assert id="(UBL-CR-\d+)"', text):
		if rid in CR_BY_HAND:
			continue
		out.append((rid, ctx.split(" | ")[0]))
	return out


def cr_doc(ctx):
	"""A minimal Invoice holding the element or attribute CTX names."""
	root = ET.Element("{%s}Invoice" % INV)
	cid = ET.SubElement(root, "{%s}CustomizationID" % NS["cbc"])
	cid.text = "urn:cen.eu:en16931:2017"
	steps = ctx.split("/")
	if steps[0] == "":
		steps = steps[2:]  # "/*/..."
	attr = None
	if steps[-1].startswith("@"):
		attr = steps.pop()[1:]
	if not steps:
		steps = ["cac:AccountingSupplierParty", "cac:Party", "cbc:EndpointID"]
	cur = root
	for s in steps:
		p, local = s.split(":")
		cur = ET.SubElement(cur, "{%s}%s" % (NS[p], local))
	if attr:
		cur.set(attr, "x")
		cur.text = "1"
	elif steps[-1].startswith("cbc:"):
		cur.text = "1"
	return root


def write_case(dirpath, kind, name, what, root):
	os.makedirs(dirpath, exist_ok=True)
	with open(os.path.join(dirpath, "%s-%s.xml" % (kind, name)), "w") as f:
		f.write(serialize(root, what))


def link_base(dirpath, basename, rule):
	os.makedirs(dirpath, exist_ok=True)
	dst = os.path.join(dirpath, "passes-base.xml")
	if os.path.lexists(dst):
		os.unlink(dst)
	os.symlink(os.path.join("..", "..", "en16931-bases", basename + ".xml"), dst)


def main():
	sets = {"en16931-model": "model", "en16931-vat": "vat", "en16931-codes": "codes", "en16931-syntax": "syntax"}
	rule_set = {}
	for s in sets:
		text = open(os.path.join(HERE, "..", "..", "schemas", "rules", s + ".sch")).read()
		for rid, impl in re.findall(r'<(?:assert|report) id="([^"]+)" flag="[a-z]+"( secmx:status="not-implemented")?', text):
			if not impl:
				rule_set.setdefault(rid, s)
	for s in sets:
		shutil.rmtree(os.path.join(HERE, s), ignore_errors=True)
	bdir = os.path.join(HERE, "en16931-bases")
	shutil.rmtree(bdir, ignore_errors=True)
	os.makedirs(bdir)
	for b in BASES:
		cat, credit = b.split("-")[1], b.startswith("creditnote")
		with open(os.path.join(bdir, b + ".xml"), "w") as f:
			f.write(serialize(parse(base(cat, credit)), "clean EN 16931 %s, VAT category %s: the base of the en16931 rule cases (tests/rules/gen-en16931-cases.py)" % ("credit note" if credit else "invoice", cat)))
	has = {}
	for rule, kind, name, what, b, ops in CASES:
		assert rule in rule_set, rule
		d = os.path.join(HERE, rule_set[rule], rule)
		write_case(d, kind, name, "%s %s: %s" % (rule, kind, what), doc(b, ops))
		has.setdefault(rule, set()).add(kind)
	for rid, ctx in cr_cases():
		d = os.path.join(HERE, "en16931-syntax", rid)
		write_case(d, "fires", "present", "%s fires: %s is present" % (rid, ctx), cr_doc(ctx))
		has.setdefault(rid, set()).add("fires")
	for s in sets:
		with open(os.path.join(HERE, s, "PROFILE"), "w") as f:
			f.write("en16931\n")
	for rid, s in rule_set.items():
		kinds = has.get(rid, set())
		if "passes" not in kinds:
			link_base(os.path.join(HERE, s, rid), DEFAULT_BASE.get(rid, "invoice-S"), rid)
			kinds.add("passes")
		if "fires" not in kinds:
			print("no fires case for %s" % rid, file=sys.stderr)
	print("%d rules, %d written cases" % (len(rule_set), len(CASES)))


main()
