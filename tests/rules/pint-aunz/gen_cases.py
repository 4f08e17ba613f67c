#!/usr/bin/env python3
"""Generate the per-rule cases of the PINT A-NZ rule sets from base.xml.

Sets: pint-aunz (pint-aunz.sch, shared), pint-aunz-billing and
pint-aunz-selfbilling (the profile-specific files). Each case is base.xml
(optionally turned into a self-billed invoice or a credit note) with exact
text replacements, each of which must match exactly once, written to
tests/rules/<set>/<RULE-ID>/<fires|passes>-<name>.xml. Add a line to CASES
and run:  python3 tests/rules/pint-aunz/gen_cases.py
"""
import os

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
BASE = open(os.path.join(HERE, 'base.xml'), encoding='utf-8').read()

CN = 'CREDITNOTE'
SB = 'SELFBILLING'
AU = 'AUSTRALIA'

ORDREF = '<cac:OrderReference>\n    <cbc:ID>PO-88120</cbc:ID>\n  </cac:OrderReference>'
NOTE = '<cbc:Note>Stationery for the Wellington office</cbc:Note>'
CUR = '<cbc:DocumentCurrencyCode>NZD</cbc:DocumentCurrencyCode>'
SUP_EP = '<cbc:EndpointID schemeID="0088">9429041535097</cbc:EndpointID>'
SUP_PID = '<cbc:ID schemeID="0088">9429041535097</cbc:ID>'
CUS_EP = '<cbc:EndpointID schemeID="0088">9429049990003</cbc:EndpointID>'
CUS_PID = '<cbc:ID schemeID="0088">9429049990003</cbc:ID>'
SUP_NAME = '<cbc:Name>Kauri Office Supplies</cbc:Name>'
CUS_NAME = '<cbc:Name>Department of Examples</cbc:Name>'
SUP_REG = '<cbc:RegistrationName>Kauri Office Supplies Limited</cbc:RegistrationName>'
CUS_REG = '<cbc:RegistrationName>Department of Examples</cbc:RegistrationName>'
SUP_LEGAL = '<cbc:CompanyID schemeID="0088">9429041535097</cbc:CompanyID>'
CUS_LEGAL = '<cbc:CompanyID schemeID="0088">9429049990003</cbc:CompanyID>'
SUP_GST = '<cbc:CompanyID>49091850</cbc:CompanyID>'
CUS_GST = '<cbc:CompanyID>136410132</cbc:CompanyID>'
SUP_ADDR = '<cbc:StreetName>12 Lambton Quay</cbc:StreetName>'
CUS_ADDR = '<cbc:StreetName>1 The Terrace</cbc:StreetName>'
PM_CODE = '<cbc:PaymentMeansCode>30</cbc:PaymentMeansCode>'
PAYEE_ID = '<cbc:ID>020500012345600</cbc:ID>'
PAYID = '<cbc:PaymentID>INV-2026-00417</cbc:PaymentID>'
TERMS = '<cbc:Note>20th of the month following invoice</cbc:Note>'
TT_AMT = '<cbc:TaxAmount currencyID="NZD">106.35</cbc:TaxAmount>\n    <cac:TaxSubtotal>'
SUB_TAXABLE = '<cbc:TaxableAmount currencyID="NZD">709.00</cbc:TaxableAmount>'
SUB_TAX = '<cbc:TaxAmount currencyID="NZD">106.35</cbc:TaxAmount>\n      <cac:TaxCategory>'
SUB_CAT = '<cac:TaxCategory>\n        <cbc:ID>S</cbc:ID>\n        <cbc:Percent>15</cbc:Percent>'
LMT_LEA = '<cbc:LineExtensionAmount currencyID="NZD">709.00</cbc:LineExtensionAmount>'
LMT_TEA = '<cbc:TaxExclusiveAmount currencyID="NZD">709.00</cbc:TaxExclusiveAmount>'
LMT_TIA = '<cbc:TaxInclusiveAmount currencyID="NZD">815.35</cbc:TaxInclusiveAmount>'
LMT_PAY = '<cbc:PayableAmount currencyID="NZD">815.35</cbc:PayableAmount>'
L1_ID = '<cbc:ID>1</cbc:ID>\n    <cbc:InvoicedQuantity'
L1_QTY = '<cbc:InvoicedQuantity unitCode="XBX">10</cbc:InvoicedQuantity>'
L1_LEA = '<cbc:LineExtensionAmount currencyID="NZD">450.00</cbc:LineExtensionAmount>'
L1_NAME = '<cbc:Name>A4 copier paper, box of 5 reams</cbc:Name>'
L1_CAT = '<cbc:ID>S</cbc:ID>\n        <cbc:Percent>15</cbc:Percent>\n        <cac:TaxScheme>\n          <cbc:ID>GST</cbc:ID>\n        </cac:TaxScheme>\n      </cac:ClassifiedTaxCategory>\n    </cac:Item>\n    <cac:Price>\n      <cbc:PriceAmount currencyID="NZD">45.00</cbc:PriceAmount>'
L1_PRICE = '<cbc:PriceAmount currencyID="NZD">45.00</cbc:PriceAmount>'
L1_OLR = '<cac:OrderLineReference>\n      <cbc:LineID>1</cbc:LineID>\n    </cac:OrderLineReference>'
L1_ITEM = '<cac:Item>\n      <cbc:Name>A4 copier paper'
L1_SELLERS = '<cac:SellersItemIdentification>\n        <cbc:ID>KOS-A4-5R</cbc:ID>\n      </cac:SellersItemIdentification>'
L1_CTC = '<cac:ClassifiedTaxCategory>\n        <cbc:ID>S</cbc:ID>\n        <cbc:Percent>15</cbc:Percent>\n        <cac:TaxScheme>\n          <cbc:ID>GST</cbc:ID>\n        </cac:TaxScheme>\n      </cac:ClassifiedTaxCategory>\n    </cac:Item>\n    <cac:Price>\n      <cbc:PriceAmount currencyID="NZD">45.00'
L2_PRICE = '<cbc:PriceAmount currencyID="NZD">129.50</cbc:PriceAmount>'
L2_ID = '<cbc:ID>2</cbc:ID>\n    <cbc:InvoicedQuantity'
SUP_PARTY_END = '</cac:Contact>\n    </cac:Party>'
PM = '<cac:PaymentMeans>'
TAXTOTAL = '<cac:TaxTotal>'
LMT = '<cac:LegalMonetaryTotal>'
SUP = '<cac:AccountingSupplierParty>'


def dup(frag):
    """The fragment twice."""
    return (frag, frag + frag)


def at(anchor, xml):
    """Insert XML before ANCHOR."""
    return (anchor, xml + anchor)


def after(anchor, xml):
    return (anchor, anchor + xml)


def adr(inner):
    return at(SUP, '<cac:AdditionalDocumentReference>%s</cac:AdditionalDocumentReference>\n  ' % inner)


def doc_ac(charge, amount, cat='S', pct='15', extra='', reason='<cbc:AllowanceChargeReasonCode>95</cbc:AllowanceChargeReasonCode>'):
    """A document level allowance (charge=false) or charge, with its totals NOT adjusted."""
    pcttag = '<cbc:Percent>%s</cbc:Percent>' % pct if pct is not None else ''
    return at(TAXTOTAL, '<cac:AllowanceCharge><cbc:ChargeIndicator>%s</cbc:ChargeIndicator>%s%s'
              '<cbc:Amount currencyID="NZD">%s</cbc:Amount><cac:TaxCategory><cbc:ID>%s</cbc:ID>%s'
              '<cac:TaxScheme><cbc:ID>GST</cbc:ID></cac:TaxScheme></cac:TaxCategory></cac:AllowanceCharge>\n  '
              % (charge, reason, extra, amount, cat, pcttag))


# A correct document level allowance of 9.00 (S 15 %): totals adjusted.
ALLOW_OK = [doc_ac('false', '9.00'),
            (SUB_TAXABLE, '<cbc:TaxableAmount currencyID="NZD">700.00</cbc:TaxableAmount>'),
            (SUB_TAX, '<cbc:TaxAmount currencyID="NZD">105.00</cbc:TaxAmount>\n      <cac:TaxCategory>'),
            (TT_AMT, '<cbc:TaxAmount currencyID="NZD">105.00</cbc:TaxAmount>\n    <cac:TaxSubtotal>'),
            (LMT_TEA, '<cbc:TaxExclusiveAmount currencyID="NZD">700.00</cbc:TaxExclusiveAmount>'),
            (LMT_TIA, '<cbc:TaxInclusiveAmount currencyID="NZD">805.00</cbc:TaxInclusiveAmount><cbc:AllowanceTotalAmount currencyID="NZD">9.00</cbc:AllowanceTotalAmount>'),
            (LMT_PAY, '<cbc:PayableAmount currencyID="NZD">805.00</cbc:PayableAmount>')]
# A correct document level charge of 11.00 (S 15 %).
CHARGE_OK = [doc_ac('true', '11.00', reason='<cbc:AllowanceChargeReasonCode>FC</cbc:AllowanceChargeReasonCode>'),
             (SUB_TAXABLE, '<cbc:TaxableAmount currencyID="NZD">720.00</cbc:TaxableAmount>'),
             (SUB_TAX, '<cbc:TaxAmount currencyID="NZD">108.00</cbc:TaxAmount>\n      <cac:TaxCategory>'),
             (TT_AMT, '<cbc:TaxAmount currencyID="NZD">108.00</cbc:TaxAmount>\n    <cac:TaxSubtotal>'),
             (LMT_TEA, '<cbc:TaxExclusiveAmount currencyID="NZD">720.00</cbc:TaxExclusiveAmount>'),
             (LMT_TIA, '<cbc:TaxInclusiveAmount currencyID="NZD">828.00</cbc:TaxInclusiveAmount><cbc:ChargeTotalAmount currencyID="NZD">11.00</cbc:ChargeTotalAmount>'),
             (LMT_PAY, '<cbc:PayableAmount currencyID="NZD">828.00</cbc:PayableAmount>')]


def line_ac(charge, amount, reason='<cbc:AllowanceChargeReasonCode>95</cbc:AllowanceChargeReasonCode>', extra=''):
    """A line allowance/charge on line 1 (net amount not adjusted)."""
    return after(L1_OLR, '<cac:AllowanceCharge><cbc:ChargeIndicator>%s</cbc:ChargeIndicator>%s%s'
                 '<cbc:Amount currencyID="NZD">%s</cbc:Amount></cac:AllowanceCharge>' % (charge, reason, extra, amount))


def whole_cat(cat, pct, extra=''):
    """Every GST category (lines and breakdown) set to CAT with rate PCT
    (None: no rate), tax amounts 0."""
    p = '\n        <cbc:Percent>%s</cbc:Percent>' % pct if pct is not None else ''
    e = []
    for frag in ('<cbc:ID>S</cbc:ID>\n        <cbc:Percent>15</cbc:Percent>',):
        pass
    return [('ALLCAT', cat, p, extra)]


def line_price(frag_old, new):
    return (frag_old, new)


def sub_after_id(text):
    return (SUB_CAT, SUB_CAT + text)


def mk_zero(cat, pct='0', exempt=''):
    """A document whose lines and breakdown are all category CAT with no tax."""
    return ['ZERO:%s:%s:%s' % (cat, '' if pct is None else pct, exempt)]


AU_PARTIES = [AU]

CASES = {'pint-aunz': [], 'pint-aunz-billing': [], 'pint-aunz-selfbilling': []}


def case(set_, rule, fires, name, what, edits):
    CASES[set_].append((rule, fires, name, what, edits))


def c(rule, fname, fwhat, fedits, pname='base', pwhat='the base document', pedits=()):
    case('pint-aunz', rule, 1, fname, fwhat, list(fedits))
    case('pint-aunz', rule, 0, pname, pwhat, list(pedits))


def ident(rule, scheme, bad, good):
    c(rule, 'bad-' + scheme, 'buyer identifier %s under scheme %s' % (bad, scheme),
      [(CUS_PID, '<cbc:ID schemeID="%s">%s</cbc:ID>' % (scheme, bad))],
      'good-' + scheme, 'buyer identifier %s under scheme %s' % (good, scheme),
      [(CUS_PID, '<cbc:ID schemeID="%s">%s</cbc:ID>' % (scheme, good))])


# ---------- identifiers ----------
ident('ibr-068', '0088', '9429049990004', '9429049990003')
ident('ibr-127', '0007', '556012579', '5560125790')
ident('ibr-069', '0192', '974760674', '974760673')
ident('ibr-070', '0184', '13585628', 'DK13585628')
ident('ibr-113', '0208', '0403170702', '0403170701')
ident('ibr-114', '0201', 'UFABC12', 'UFABC1')
ident('ibr-115', '0210', 'RSSMRA85T10A', 'RSSMRA85T10A562S')
ident('ibr-116', '0211', 'IT00743110158', 'IT00743110157')
ident('ibr-120', '0151', '51824753557', '51824753556')
# ---------- allowances and charges ----------
PRICE_AC = '<cac:AllowanceCharge><cbc:ChargeIndicator>%s</cbc:ChargeIndicator><cbc:Amount currencyID="NZD">5.00</cbc:Amount><cbc:BaseAmount currencyID="NZD">50.00</cbc:BaseAmount></cac:AllowanceCharge>'
c('ibr-083', 'price-charge', 'a charge on price level', [after(L1_PRICE, PRICE_AC % 'true')],
  'price-discount', 'a discount on price level', [after(L1_PRICE, PRICE_AC % 'false')])
c('ibr-sr-30', 'two-reasons', 'an allowance with two reasons', ALLOW_OK[:0] + [doc_ac('false', '9.00', extra='<cbc:AllowanceChargeReason>a</cbc:AllowanceChargeReason><cbc:AllowanceChargeReason>b</cbc:AllowanceChargeReason>')] + ALLOW_OK[1:],
  'allowance', 'a correct document level allowance', ALLOW_OK)
c('ibr-031', 'no-amount', 'a document level allowance without amount',
  [at(TAXTOTAL, '<cac:AllowanceCharge><cbc:ChargeIndicator>false</cbc:ChargeIndicator><cbc:AllowanceChargeReasonCode>95</cbc:AllowanceChargeReasonCode></cac:AllowanceCharge>')],
  'allowance', 'a correct document level allowance', ALLOW_OK)
c('ibr-033', 'no-reason', 'a document level allowance without reason', [doc_ac('false', '9.00', reason='')] + ALLOW_OK[1:],
  'allowance', 'a correct document level allowance', ALLOW_OK)
c('ibr-041', 'no-amount', 'a line allowance without amount',
  [after(L1_OLR, '<cac:AllowanceCharge><cbc:ChargeIndicator>false</cbc:ChargeIndicator><cbc:AllowanceChargeReasonCode>95</cbc:AllowanceChargeReasonCode></cac:AllowanceCharge>')],
  'line-allowance', 'a line allowance with amount', [line_ac('false', '0.00')])
c('ibr-042', 'no-reason', 'a line allowance without reason', [line_ac('false', '0.00', reason='')],
  'line-allowance', 'a line allowance with a reason code', [line_ac('false', '0.00')])
c('ibr-036', 'no-amount', 'a document level charge without amount',
  [at(TAXTOTAL, '<cac:AllowanceCharge><cbc:ChargeIndicator>true</cbc:ChargeIndicator><cbc:AllowanceChargeReasonCode>FC</cbc:AllowanceChargeReasonCode></cac:AllowanceCharge>')],
  'charge', 'a correct document level charge', CHARGE_OK)
c('ibr-sr-31', 'two-reasons', 'a charge with two reasons', [doc_ac('true', '11.00', reason='<cbc:AllowanceChargeReasonCode>FC</cbc:AllowanceChargeReasonCode>', extra='<cbc:AllowanceChargeReason>a</cbc:AllowanceChargeReason><cbc:AllowanceChargeReason>b</cbc:AllowanceChargeReason>')] + CHARGE_OK[1:],
  'charge', 'a correct document level charge', CHARGE_OK)
c('ibr-038', 'no-reason', 'a document level charge without reason', [doc_ac('true', '11.00', reason='')] + CHARGE_OK[1:],
  'charge', 'a correct document level charge', CHARGE_OK)
c('ibr-043', 'no-amount', 'a line charge without amount',
  [after(L1_OLR, '<cac:AllowanceCharge><cbc:ChargeIndicator>true</cbc:ChargeIndicator><cbc:AllowanceChargeReasonCode>FC</cbc:AllowanceChargeReasonCode></cac:AllowanceCharge>')],
  'line-charge', 'a line charge with amount', [line_ac('true', '0.00', '<cbc:AllowanceChargeReasonCode>FC</cbc:AllowanceChargeReasonCode>')])
c('ibr-044', 'no-reason', 'a line charge without reason', [line_ac('true', '0.00', reason='')],
  'line-charge', 'a line charge with a reason code', [line_ac('true', '0.00', '<cbc:AllowanceChargeReasonCode>FC</cbc:AllowanceChargeReasonCode>')])
c('ibr-082', 'yes', "charge indicator 'yes'", [line_ac('yes', '0.00')], 'false', "charge indicator 'false'", [line_ac('false', '0.00')])
c('ibr-sr-61', 'two-exemptions', 'an allowance tax category with two exemption reasons',
  [doc_ac('false', '9.00', extra='')] + ALLOW_OK[1:] + [('<cbc:Percent>15</cbc:Percent><cac:TaxScheme>', '<cbc:Percent>15</cbc:Percent><cbc:TaxExemptionReason>a</cbc:TaxExemptionReason><cbc:TaxExemptionReason>b</cbc:TaxExemptionReason><cac:TaxScheme>')],
  'allowance', 'a correct document level allowance', ALLOW_OK)
c('ibr-052', 'no-id', 'a supporting document without reference', [adr('<cbc:ID> </cbc:ID>')],
  'id', 'a supporting document with reference', [adr('<cbc:ID>D1</cbc:ID>')])
c('ibr-sr-33', 'two-descriptions', 'a supporting document with two descriptions',
  [adr('<cbc:ID>D1</cbc:ID><cbc:DocumentDescription>a</cbc:DocumentDescription><cbc:DocumentDescription>b</cbc:DocumentDescription>')],
  'one-description', 'a supporting document with one description', [adr('<cbc:ID>D1</cbc:ID><cbc:DocumentDescription>a</cbc:DocumentDescription>')])
c('ibr-080', 'no-endpoint', 'no buyer endpoint', [(CUS_EP, '')])
c('ibr-063', 'no-scheme', 'buyer endpoint without scheme', [(CUS_EP, '<cbc:EndpointID>9429049990003</cbc:EndpointID>')])
c('ibr-011', 'no-country', 'buyer address without country',
  [('<cbc:IdentificationCode>NZ</cbc:IdentificationCode>\n        </cac:Country>\n      </cac:PostalAddress>\n      <cac:PartyTaxScheme>\n        ' + CUS_GST,
    '<cbc:IdentificationCode> </cbc:IdentificationCode>\n        </cac:Country>\n      </cac:PostalAddress>\n      <cac:PartyTaxScheme>\n        ' + CUS_GST)])
c('ibr-sr-54', 'two-lines', 'buyer address with two address lines', [after(CUS_ADDR, '<cac:AddressLine><cbc:Line>a</cbc:Line></cac:AddressLine><cac:AddressLine><cbc:Line>b</cbc:Line></cac:AddressLine>')],
  'one-line', 'buyer address with one address line', [after(CUS_ADDR, '<cac:AddressLine><cbc:Line>a</cbc:Line></cac:AddressLine>')])
DELIV = '<cac:Delivery><cac:DeliveryLocation><cac:Address><cbc:CityName>Wellington</cbc:CityName>%s</cac:Address></cac:DeliveryLocation></cac:Delivery>\n  '
NZC = '<cac:Country><cbc:IdentificationCode>NZ</cbc:IdentificationCode></cac:Country>'
c('ibr-057', 'no-country', 'delivery address without country', [at(PM, DELIV % '')],
  'country', 'delivery address with country', [at(PM, DELIV % NZC)])
c('ibr-sr-56', 'two-lines', 'delivery address with two lines', [at(PM, DELIV % ('<cac:AddressLine><cbc:Line>a</cbc:Line></cac:AddressLine><cac:AddressLine><cbc:Line>b</cbc:Line></cac:AddressLine>' + NZC))],
  'one-line', 'delivery address with one line', [at(PM, DELIV % ('<cac:AddressLine><cbc:Line>a</cbc:Line></cac:AddressLine>' + NZC))])
# ---------- totals ----------
c('ibr-012', 'no-line-total', 'no sum of line net amounts', [(LMT_LEA, '')])
c('ibr-013', 'no-tax-exclusive', 'no total without tax', [(LMT_TEA, '')])
c('ibr-014', 'no-tax-inclusive', 'no total with tax', [(LMT_TIA, '')])
c('ibr-015', 'no-payable', 'no amount due', [(LMT_PAY, '')])
c('ibr-091', 'three-decimals', 'amount due with 3 decimals', [(LMT_PAY, '<cbc:PayableAmount currencyID="NZD">815.350</cbc:PayableAmount>')])
c('ibr-121', 'three-decimals', 'allowance total with 3 decimals', ALLOW_OK[:-2] + [(LMT_TIA, '<cbc:TaxInclusiveAmount currencyID="NZD">805.00</cbc:TaxInclusiveAmount><cbc:AllowanceTotalAmount currencyID="NZD">9.000</cbc:AllowanceTotalAmount>'), ALLOW_OK[-1]],
  'allowance', 'allowance total 9.00', ALLOW_OK)
c('ibr-122', 'three-decimals', 'charge total with 3 decimals', CHARGE_OK[:-2] + [(LMT_TIA, '<cbc:TaxInclusiveAmount currencyID="NZD">828.00</cbc:TaxInclusiveAmount><cbc:ChargeTotalAmount currencyID="NZD">11.000</cbc:ChargeTotalAmount>'), CHARGE_OK[-1]],
  'charge', 'charge total 11.00', CHARGE_OK)
c('ibr-123', 'three-decimals', 'total without tax with 3 decimals', [(LMT_TEA, '<cbc:TaxExclusiveAmount currencyID="NZD">709.000</cbc:TaxExclusiveAmount>')])
c('ibr-125', 'three-decimals', 'total with tax with 3 decimals', [(LMT_TIA, '<cbc:TaxInclusiveAmount currencyID="NZD">815.350</cbc:TaxInclusiveAmount>')])
c('ibr-co-10', 'sum-off', 'line total 709.01 for lines adding to 709.00', [(LMT_LEA, '<cbc:LineExtensionAmount currencyID="NZD">709.01</cbc:LineExtensionAmount>')])
c('ibr-co-11', 'allowance-total-off', 'allowance total 8.00 for an allowance of 9.00', ALLOW_OK[:-2] + [(LMT_TIA, '<cbc:TaxInclusiveAmount currencyID="NZD">805.00</cbc:TaxInclusiveAmount><cbc:AllowanceTotalAmount currencyID="NZD">8.00</cbc:AllowanceTotalAmount>'), ALLOW_OK[-1]],
  'allowance', 'allowance total 9.00', ALLOW_OK)
c('ibr-co-12', 'charge-total-off', 'charge total 10.00 for a charge of 11.00', CHARGE_OK[:-2] + [(LMT_TIA, '<cbc:TaxInclusiveAmount currencyID="NZD">828.00</cbc:TaxInclusiveAmount><cbc:ChargeTotalAmount currencyID="NZD">10.00</cbc:ChargeTotalAmount>'), CHARGE_OK[-1]],
  'charge', 'charge total 11.00', CHARGE_OK)
c('ibr-co-13', 'exclusive-off', 'total without tax 709.00 with an allowance of 9.00', ALLOW_OK[:4] + ALLOW_OK[5:],
  'allowance', 'total without tax 700.00 with an allowance of 9.00', ALLOW_OK)
c('ibr-co-16', 'payable-off', 'amount due 800.00 without prepaid amount', [(LMT_PAY, '<cbc:PayableAmount currencyID="NZD">800.00</cbc:PayableAmount>')],
  'prepaid', 'amount due 715.35 after 100.00 prepaid', [(LMT_TIA, LMT_TIA + '<cbc:PrepaidAmount currencyID="NZD">100.00</cbc:PrepaidAmount>'), (LMT_PAY, '<cbc:PayableAmount currencyID="NZD">715.35</cbc:PayableAmount>')])
# ---------- document level ----------
c('ibr-001', 'empty', 'an empty CustomizationID', [('<cbc:CustomizationID>urn:peppol:pint:billing-1@aunz-1</cbc:CustomizationID>', '<cbc:CustomizationID> </cbc:CustomizationID>')])
c('ibr-sr-63', 'wildcard', 'a CustomizationID with *', [('billing-1@aunz-1</cbc:CustomizationID>', 'billing-1@aunz-1*</cbc:CustomizationID>')])
c('ibr-002', 'no-id', 'no document number', [('<cbc:ID>INV-2026-00417</cbc:ID>', '')])
c('ibr-003', 'no-date', 'no issue date', [('<cbc:IssueDate>2026-11-20</cbc:IssueDate>', '')])
c('ibr-004', 'no-type', 'no type code', [('<cbc:InvoiceTypeCode>380</cbc:InvoiceTypeCode>', '')])
c('ibr-005', 'no-currency', 'no document currency', [(CUR, '')])
c('ibr-006', 'no-seller-name', 'no seller registration name', [(SUP_REG, '')])
c('ibr-007', 'no-buyer-name', 'no buyer registration name', [(CUS_REG, '')])
c('ibr-008', 'no-seller-address', 'no seller postal address',
  [('<cac:PostalAddress>\n        <cbc:StreetName>12 Lambton Quay</cbc:StreetName>\n        <cbc:CityName>Wellington</cbc:CityName>\n        <cbc:PostalZone>6011</cbc:PostalZone>\n        <cac:Country>\n          <cbc:IdentificationCode>NZ</cbc:IdentificationCode>\n        </cac:Country>\n      </cac:PostalAddress>', '')])
c('ibr-010', 'no-buyer-address', 'no buyer postal address',
  [('<cac:PostalAddress>\n        <cbc:StreetName>1 The Terrace</cbc:StreetName>\n        <cbc:CityName>Wellington</cbc:CityName>\n        <cbc:PostalZone>6011</cbc:PostalZone>\n        <cac:Country>\n          <cbc:IdentificationCode>NZ</cbc:IdentificationCode>\n        </cac:Country>\n      </cac:PostalAddress>', '')])
c('ibr-016', 'no-lines', 'no invoice line', [('INVOICELINES', '')])
TAXCUR = (CUR, CUR + '<cbc:TaxCurrencyCode>AUD</cbc:TaxCurrencyCode>')
TT_AUD = at(LMT, '<cac:TaxTotal><cbc:TaxAmount currencyID="AUD">95.00</cbc:TaxAmount></cac:TaxTotal>\n  ')
c('ibr-053', 'no-tax-currency-total', 'tax currency AUD without an AUD tax total', [TAXCUR],
  'tax-currency-total', 'tax currency AUD with an AUD tax total', [TAXCUR, TT_AUD])
CARD = '<cac:CardAccount><cbc:PrimaryAccountNumberID>1234</cbc:PrimaryAccountNumberID><cbc:NetworkID>VISA</cbc:NetworkID></cac:CardAccount>'
c('ibr-066', 'two-cards', 'two payment card accounts', [after(PAYID, CARD), at(TAXTOTAL.replace('<cac:TaxTotal>', '<cac:PaymentTerms>'), '<cac:PaymentMeans><cbc:PaymentMeansCode>54</cbc:PaymentMeansCode>' + CARD + '</cac:PaymentMeans>\n  ')],
  'one-card', 'one payment card account', [after(PAYID, CARD)])
MAND = '<cac:PaymentMandate><cbc:ID>M1</cbc:ID></cac:PaymentMandate>'
c('ibr-067', 'two-mandates', 'two payment mandates', [at('</cac:PaymentMeans>', MAND), at('<cac:PaymentTerms>', '<cac:PaymentMeans><cbc:PaymentMeansCode>49</cbc:PaymentMeansCode>' + MAND + '</cac:PaymentMeans>\n  ')],
  'one-mandate', 'one payment mandate', [at('</cac:PaymentMeans>', MAND)])
c('ibr-071', 'object-attachment', 'an invoiced object with an attachment', [adr('<cbc:ID>O1</cbc:ID><cbc:DocumentTypeCode>130</cbc:DocumentTypeCode><cac:Attachment><cac:ExternalReference><cbc:URI>https://x.example/o</cbc:URI></cac:ExternalReference></cac:Attachment>')],
  'object', 'an invoiced object', [adr('<cbc:ID>O1</cbc:ID><cbc:DocumentTypeCode>130</cbc:DocumentTypeCode>')])
c('ibr-072', 'object-description', 'an invoiced object with a description', [adr('<cbc:ID>O1</cbc:ID><cbc:DocumentTypeCode>130</cbc:DocumentTypeCode><cbc:DocumentDescription>d</cbc:DocumentDescription>')],
  'object', 'an invoiced object', [adr('<cbc:ID>O1</cbc:ID><cbc:DocumentTypeCode>130</cbc:DocumentTypeCode>')])
c('ibr-076', 'no-profile', 'no ProfileID', [('<cbc:ProfileID>urn:peppol:bis:billing</cbc:ProfileID>', '')])
c('ibr-078', 'two-objects', 'two invoiced objects', [adr('<cbc:ID>O1</cbc:ID><cbc:DocumentTypeCode>130</cbc:DocumentTypeCode>'), adr('<cbc:ID>O2</cbc:ID><cbc:DocumentTypeCode>130</cbc:DocumentTypeCode>')],
  'one-object', 'one invoiced object', [adr('<cbc:ID>O1</cbc:ID><cbc:DocumentTypeCode>130</cbc:DocumentTypeCode>')])
c('ibr-084', 'opposite-signs', 'tax totals of opposite signs', [TAXCUR, at(LMT, '<cac:TaxTotal><cbc:TaxAmount currencyID="AUD">-95.00</cbc:TaxAmount></cac:TaxTotal>\n  ')],
  'same-signs', 'tax totals of the same sign', [TAXCUR, TT_AUD])
PROJ = '<cac:ProjectReference><cbc:ID>P%s</cbc:ID></cac:ProjectReference>\n  '
c('ibr-090', 'two-projects', 'two project references', [at(SUP, PROJ % 1 + PROJ % 2)], 'one-project', 'one project reference', [at(SUP, PROJ % 1)])
c('ibr-094', 'two-contracts', 'two contract references', [at(SUP, '<cac:ContractDocumentReference><cbc:ID>C1</cbc:ID></cac:ContractDocumentReference><cac:ContractDocumentReference><cbc:ID>C2</cbc:ID></cac:ContractDocumentReference>\n  ')],
  'one-contract', 'one contract reference', [at(SUP, '<cac:ContractDocumentReference><cbc:ID>C1</cbc:ID></cac:ContractDocumentReference>\n  ')])
c('ibr-095', 'two-receipts', 'two receiving advice references', [at(SUP, '<cac:ReceiptDocumentReference><cbc:ID>R1</cbc:ID></cac:ReceiptDocumentReference><cac:ReceiptDocumentReference><cbc:ID>R2</cbc:ID></cac:ReceiptDocumentReference>\n  ')],
  'one-receipt', 'one receiving advice reference', [at(SUP, '<cac:ReceiptDocumentReference><cbc:ID>R1</cbc:ID></cac:ReceiptDocumentReference>\n  ')])
c('ibr-096', 'two-despatches', 'two despatch advice references', [at(SUP, '<cac:DespatchDocumentReference><cbc:ID>D1</cbc:ID></cac:DespatchDocumentReference><cac:DespatchDocumentReference><cbc:ID>D2</cbc:ID></cac:DespatchDocumentReference>\n  ')],
  'one-despatch', 'one despatch advice reference', [at(SUP, '<cac:DespatchDocumentReference><cbc:ID>D1</cbc:ID></cac:DespatchDocumentReference>\n  ')])
PERIOD = '<cac:InvoicePeriod><cbc:StartDate>2026-11-01</cbc:StartDate><cbc:EndDate>2026-11-30</cbc:EndDate></cac:InvoicePeriod>\n  '
c('ibr-097', 'two-periods', 'two invoicing periods', [at(ORDREF, PERIOD + PERIOD)], 'one-period', 'one invoicing period', [at(ORDREF, PERIOD)])
c('ibr-098', 'two-names', 'two seller registration names', [dup(SUP_REG)])
c('ibr-099', 'two-trading-names', 'two seller trading names', [dup(SUP_NAME)])
c('ibr-100', 'two-legal-ids', 'two seller legal identifiers', [dup(SUP_LEGAL)])
c('ibr-101', 'two-legal-forms', 'two seller legal forms', [after(SUP_LEGAL, '<cbc:CompanyLegalForm>Ltd</cbc:CompanyLegalForm><cbc:CompanyLegalForm>Co</cbc:CompanyLegalForm>')],
  'one-legal-form', 'one seller legal form', [after(SUP_LEGAL, '<cbc:CompanyLegalForm>Ltd</cbc:CompanyLegalForm>')])
c('ibr-102', 'two-names', 'two buyer registration names', [dup(CUS_REG)])
c('ibr-103', 'two-legal-ids', 'two buyer legal identifiers', [dup(CUS_LEGAL)])
c('ibr-104', 'two-tax-ids', 'two buyer tax identifiers', [dup(CUS_GST)])
c('ibr-107', 'two-deliveries', 'two deliveries', [at(PM, (DELIV % NZC) * 2)], 'one-delivery', 'one delivery', [at(PM, DELIV % NZC)])
c('ibr-112', 'two-trading-names', 'two buyer trading names', [dup(CUS_NAME)])
c('ibr-co-15', 'inclusive-off', 'total with tax 815.36', [(LMT_TIA, '<cbc:TaxInclusiveAmount currencyID="NZD">815.36</cbc:TaxInclusiveAmount>'), (LMT_PAY, '<cbc:PayableAmount currencyID="NZD">815.36</cbc:PayableAmount>')])
c('ibr-sr-16', 'two-buyer-ids', 'two buyer identifiers', [dup(CUS_PID)])
c('ibr-sr-39', 'two-project-ids', 'a project reference with two ids', [at(SUP, '<cac:ProjectReference><cbc:ID>P1</cbc:ID><cbc:ID>P2</cbc:ID></cac:ProjectReference>\n  ')],
  'one-project', 'one project reference', [at(SUP, PROJ % 1)])
c('ibr-sr-49', 'two-codes', 'an invoicing period with two description codes', [at(ORDREF, '<cac:InvoicePeriod><cbc:DescriptionCode>3</cbc:DescriptionCode><cbc:DescriptionCode>35</cbc:DescriptionCode></cac:InvoicePeriod>\n  ')],
  'one-code', 'an invoicing period with one description code', [at(ORDREF, '<cac:InvoicePeriod><cbc:DescriptionCode>3</cbc:DescriptionCode></cac:InvoicePeriod>\n  ')])
c('ibr-sr-51', 'two-notes', 'two document notes', [dup(NOTE)])
c('ibr-sr-52', 'two-tenders', 'two tender references', [at(SUP, '<cac:OriginatorDocumentReference><cbc:ID>T1</cbc:ID><cbc:ID>T2</cbc:ID></cac:OriginatorDocumentReference>\n  ')],
  'one-tender', 'one tender reference', [at(SUP, '<cac:OriginatorDocumentReference><cbc:ID>T1</cbc:ID></cac:OriginatorDocumentReference>\n  ')])
# ---------- lines ----------
c('ibr-021', 'empty-line-id', 'a line with an empty id', [(L1_ID, '<cbc:ID> </cbc:ID>\n    <cbc:InvoicedQuantity')])
c('ibr-022', 'no-quantity', 'a line without quantity', [(L1_QTY, '')])
c('ibr-023', 'no-unit', 'a quantity without unit', [(L1_QTY, '<cbc:InvoicedQuantity>10</cbc:InvoicedQuantity>')])
c('ibr-024', 'no-net', 'a line without net amount', [(L1_LEA, '')])
c('ibr-025', 'no-name', 'an item without name', [(L1_NAME, '')])
c('ibr-026', 'no-price', 'a line without price', [(L1_PRICE, '')])
c('ibr-027', 'negative-price', 'a negative net price', [(L1_PRICE, '<cbc:PriceAmount currencyID="NZD">-45.00</cbc:PriceAmount>')])
c('ibr-028', 'negative-gross', 'a negative gross price', [after(L1_PRICE, '<cac:AllowanceCharge><cbc:ChargeIndicator>false</cbc:ChargeIndicator><cbc:Amount currencyID="NZD">0.00</cbc:Amount><cbc:BaseAmount currencyID="NZD">-45.00</cbc:BaseAmount></cac:AllowanceCharge>')],
  'gross', 'a gross price 50.00', [after(L1_PRICE, PRICE_AC % 'false')])
c('ibr-087', 'zero-base', 'price base quantity 0', [after(L1_PRICE, '<cbc:BaseQuantity unitCode="XBX">0</cbc:BaseQuantity>')],
  'one-base', 'price base quantity 1', [after(L1_PRICE, '<cbc:BaseQuantity unitCode="XBX">1</cbc:BaseQuantity>')])
LDOC = '<cac:DocumentReference><cbc:ID>O%s</cbc:ID><cbc:DocumentTypeCode>130</cbc:DocumentTypeCode></cac:DocumentReference>'
c('ibr-089', 'two-objects', 'two invoiced objects on a line', [after(L1_OLR, LDOC % 1 + LDOC % 2)], 'one-object', 'one invoiced object on a line', [after(L1_OLR, LDOC % 1)])
c('ibr-109', 'two-order-lines', 'two order line references', [(L1_OLR, '<cac:OrderLineReference>\n      <cbc:LineID>1</cbc:LineID><cbc:LineID>3</cbc:LineID>\n    </cac:OrderLineReference>')])
LPER = '<cac:InvoicePeriod><cbc:StartDate>2026-11-01</cbc:StartDate></cac:InvoicePeriod>'
c('ibr-110', 'two-periods', 'two line periods', [at(L1_OLR, LPER + LPER)], 'one-period', 'one line period', [at(L1_OLR, LPER)])
c('ibr-111', 'two-discounts', 'a price discount with two amounts', [after(L1_PRICE, '<cac:AllowanceCharge><cbc:ChargeIndicator>false</cbc:ChargeIndicator><cbc:Amount currencyID="NZD">5.00</cbc:Amount><cbc:Amount currencyID="NZD">5.00</cbc:Amount></cac:AllowanceCharge>')],
  'one-discount', 'one price discount', [after(L1_PRICE, PRICE_AC % 'false')])
c('ibr-sr-34', 'two-notes', 'a line with two notes', [(L1_ID, '<cbc:ID>1</cbc:ID><cbc:Note>a</cbc:Note><cbc:Note>b</cbc:Note>\n    <cbc:InvoicedQuantity')],
  'one-note', 'a line with one note', [(L1_ID, '<cbc:ID>1</cbc:ID><cbc:Note>a</cbc:Note>\n    <cbc:InvoicedQuantity')])
c('ibr-sr-38', 'two-exemptions', 'an item tax category with two exemption reasons', [(L1_CAT, L1_CAT.replace('<cac:TaxScheme>', '<cbc:TaxExemptionReason>a</cbc:TaxExemptionReason><cbc:TaxExemptionReason>b</cbc:TaxExemptionReason><cac:TaxScheme>', 1))])
c('ibr-sr-50', 'two-descriptions', 'an item with two descriptions', [(L1_ITEM, '<cac:Item>\n      <cbc:Description>a</cbc:Description><cbc:Description>b</cbc:Description><cbc:Name>A4 copier paper')],
  'one-description', 'an item with one description', [(L1_ITEM, '<cac:Item>\n      <cbc:Description>a</cbc:Description><cbc:Name>A4 copier paper')])
HPERIOD = at(ORDREF, '<cac:InvoicePeriod><cbc:StartDate>2026-11-01</cbc:StartDate><cbc:EndDate>2026-11-30</cbc:EndDate></cac:InvoicePeriod>\n  ')
c('ibr-085', 'starts-early', 'line period starting before the invoice period', [HPERIOD, at(L1_OLR, '<cac:InvoicePeriod><cbc:StartDate>2026-10-31</cbc:StartDate></cac:InvoicePeriod>')],
  'inside', 'line period inside the invoice period', [HPERIOD, at(L1_OLR, '<cac:InvoicePeriod><cbc:StartDate>2026-11-02</cbc:StartDate><cbc:EndDate>2026-11-20</cbc:EndDate></cac:InvoicePeriod>')])
c('ibr-086', 'ends-late', 'line period ending after the invoice period', [HPERIOD, at(L1_OLR, '<cac:InvoicePeriod><cbc:EndDate>2026-12-01</cbc:EndDate></cac:InvoicePeriod>')],
  'inside', 'line period inside the invoice period', [HPERIOD, at(L1_OLR, '<cac:InvoicePeriod><cbc:StartDate>2026-11-02</cbc:StartDate><cbc:EndDate>2026-11-20</cbc:EndDate></cac:InvoicePeriod>')])
c('ibr-030', 'reversed', 'line period ending before it starts', [at(L1_OLR, '<cac:InvoicePeriod><cbc:StartDate>2026-11-20</cbc:StartDate><cbc:EndDate>2026-11-02</cbc:EndDate></cac:InvoicePeriod>')],
  'ordered', 'line period in order', [at(L1_OLR, '<cac:InvoicePeriod><cbc:StartDate>2026-11-02</cbc:StartDate><cbc:EndDate>2026-11-20</cbc:EndDate></cac:InvoicePeriod>')])
c('ibr-co-20', 'no-dates', 'a line period without dates', [at(L1_OLR, '<cac:InvoicePeriod><cbc:DescriptionCode>3</cbc:DescriptionCode></cac:InvoicePeriod>')],
  'start', 'a line period with a start date', [at(L1_OLR, LPER)])
c('ibr-029', 'reversed', 'invoicing period ending before it starts', [at(ORDREF, '<cac:InvoicePeriod><cbc:StartDate>2026-11-30</cbc:StartDate><cbc:EndDate>2026-11-01</cbc:EndDate></cac:InvoicePeriod>\n  ')],
  'ordered', 'invoicing period in order', [HPERIOD])
c('ibr-co-19', 'empty-period', 'an invoicing period with nothing in it', [at(ORDREF, '<cac:InvoicePeriod><cbc:Description>x</cbc:Description></cac:InvoicePeriod>\n  ')],
  'code-only', 'an invoicing period with a description code', [at(ORDREF, '<cac:InvoicePeriod><cbc:DescriptionCode>3</cbc:DescriptionCode></cac:InvoicePeriod>\n  ')])
c('ibr-054', 'no-value', 'an item attribute without value', [after(L1_CTC.split('\n')[0], '')] and [(L1_SELLERS, L1_SELLERS + '<cac:AdditionalItemProperty><cbc:Name>colour</cbc:Name></cac:AdditionalItemProperty>')],
  'name-value', 'an item attribute with name and value', [(L1_SELLERS, L1_SELLERS + '<cac:AdditionalItemProperty><cbc:Name>colour</cbc:Name><cbc:Value>white</cbc:Value></cac:AdditionalItemProperty>')])
c('ibr-065', 'no-list', 'an item classification without listID', [(L1_SELLERS, L1_SELLERS + '<cac:CommodityClassification><cbc:ItemClassificationCode>14111507</cbc:ItemClassificationCode></cac:CommodityClassification>')],
  'list', 'an item classification with listID', [(L1_SELLERS, L1_SELLERS + '<cac:CommodityClassification><cbc:ItemClassificationCode listID="MP">14111507</cbc:ItemClassificationCode></cac:CommodityClassification>')])
c('ibr-064', 'no-scheme', 'a standard item id without scheme', [(L1_SELLERS, L1_SELLERS + '<cac:StandardItemIdentification><cbc:ID>9429041535097</cbc:ID></cac:StandardItemIdentification>')],
  'scheme', 'a standard item id with scheme', [(L1_SELLERS, L1_SELLERS + '<cac:StandardItemIdentification><cbc:ID schemeID="0160">9429041535097</cbc:ID></cac:StandardItemIdentification>')])
c('ibr-sr-58', 'no-category', 'an item tax category without code', [(L1_CAT, L1_CAT.replace('<cbc:ID>S</cbc:ID>\n        ', '', 1))])
PAYEE = '<cac:PayeeParty>%s</cac:PayeeParty>\n  '
c('ibr-017', 'no-name', 'a payee without name', [at(PM, PAYEE % '<cac:PartyIdentification><cbc:ID>P1</cbc:ID></cac:PartyIdentification>')],
  'named', 'a named payee', [at(PM, PAYEE % '<cac:PartyName><cbc:Name>Factor Ltd</cbc:Name></cac:PartyName>')])
c('ibr-105', 'two-ids', 'a payee with two identifiers', [at(PM, PAYEE % '<cac:PartyIdentification><cbc:ID>P1</cbc:ID></cac:PartyIdentification><cac:PartyIdentification><cbc:ID>P2</cbc:ID></cac:PartyIdentification><cac:PartyName><cbc:Name>Factor Ltd</cbc:Name></cac:PartyName>')],
  'one-id', 'a payee with one identifier', [at(PM, PAYEE % '<cac:PartyIdentification><cbc:ID>P1</cbc:ID></cac:PartyIdentification><cac:PartyName><cbc:Name>Factor Ltd</cbc:Name></cac:PartyName>')])
c('ibr-106', 'two-legal-ids', 'a payee with two legal identifiers', [at(PM, PAYEE % '<cac:PartyName><cbc:Name>Factor Ltd</cbc:Name></cac:PartyName><cac:PartyLegalEntity><cbc:CompanyID>1</cbc:CompanyID><cbc:CompanyID>2</cbc:CompanyID></cac:PartyLegalEntity>')],
  'one-legal-id', 'a payee with one legal identifier', [at(PM, PAYEE % '<cac:PartyName><cbc:Name>Factor Ltd</cbc:Name></cac:PartyName><cac:PartyLegalEntity><cbc:CompanyID>1</cbc:CompanyID></cac:PartyLegalEntity>')])
c('ibr-sr-19', 'two-names', 'a payee with two names', [at(PM, PAYEE % '<cac:PartyName><cbc:Name>Factor Ltd</cbc:Name></cac:PartyName><cac:PartyName><cbc:Name>Factor 2</cbc:Name></cac:PartyName>')],
  'one-name', 'a payee with one name', [at(PM, PAYEE % '<cac:PartyName><cbc:Name>Factor Ltd</cbc:Name></cac:PartyName>')])
BRANCH = '<cac:FinancialInstitutionBranch><cbc:ID>0205</cbc:ID><cac:Address>%s</cac:Address></cac:FinancialInstitutionBranch>'
c('ibr-sr-59', 'two-lines', 'a bank branch address with two lines', [after(PAYEE_ID, BRANCH % '<cac:AddressLine><cbc:Line>a</cbc:Line></cac:AddressLine><cac:AddressLine><cbc:Line>b</cbc:Line></cac:AddressLine>')],
  'one-line', 'a bank branch address with one line', [after(PAYEE_ID, BRANCH % '<cac:AddressLine><cbc:Line>a</cbc:Line></cac:AddressLine>')])
c('ibr-049', 'no-code', 'payment means without code', [(PM_CODE, '')])
c('ibr-sr-27', 'two-codes', 'payment means with two codes', [dup(PM_CODE)])
c('ibr-sr-28', 'two-mandate-ids', 'a mandate with two ids', [at('</cac:PaymentMeans>', '<cac:PaymentMandate><cbc:ID>M1</cbc:ID><cbc:ID>M2</cbc:ID></cac:PaymentMandate>')],
  'one-mandate-id', 'a mandate with one id', [at('</cac:PaymentMeans>', MAND)])
c('ibr-sr-46', 'two-names', 'a payment means code with @name twice is impossible in XML; two codes with names', [(PM_CODE, '<cbc:PaymentMeansCode name="Credit transfer">30</cbc:PaymentMeansCode><cbc:PaymentMeansCode name="Transfer">30</cbc:PaymentMeansCode>')],
  'one-name', 'a payment means code with a name', [(PM_CODE, '<cbc:PaymentMeansCode name="Credit transfer">30</cbc:PaymentMeansCode>')])
c('ibr-126', 'aud-price', 'a line price in AUD', [(L1_PRICE, '<cbc:PriceAmount currencyID="AUD">45.00</cbc:PriceAmount>')])
c('ibr-sr-05', 'two-notes', 'payment terms with two notes', [dup(TERMS)])
c('ibr-sr-60', 'two-ids', 'payment terms with two payment means ids', [after(TERMS, '<cbc:PaymentMeansID>1</cbc:PaymentMeansID><cbc:PaymentMeansID>2</cbc:PaymentMeansID>')],
  'one-id', 'payment terms with one payment means id', [after(TERMS, '<cbc:PaymentMeansID>1</cbc:PaymentMeansID>')])
c('ibr-055', 'no-invoice-id', 'a billing reference without invoice number', [at(SUP, '<cac:BillingReference><cac:InvoiceDocumentReference><cbc:IssueDate>2026-10-01</cbc:IssueDate></cac:InvoiceDocumentReference></cac:BillingReference>\n  ')],
  'invoice-id', 'a billing reference with invoice number', [at(SUP, '<cac:BillingReference><cac:InvoiceDocumentReference><cbc:ID>INV-1</cbc:ID></cac:InvoiceDocumentReference></cac:BillingReference>\n  ')])
c('ibr-sr-07', 'no-invoice-id', 'a billing reference without invoice number', [at(SUP, '<cac:BillingReference><cac:InvoiceDocumentReference><cbc:IssueDate>2026-10-01</cbc:IssueDate></cac:InvoiceDocumentReference></cac:BillingReference>\n  ')],
  'invoice-id', 'a billing reference with invoice number', [at(SUP, '<cac:BillingReference><cac:InvoiceDocumentReference><cbc:ID>INV-1</cbc:ID></cac:InvoiceDocumentReference></cac:BillingReference>\n  ')])
c('ibr-sr-06', 'two-invoices', 'a billing reference to two invoices', [at(SUP, '<cac:BillingReference><cac:InvoiceDocumentReference><cbc:ID>INV-1</cbc:ID></cac:InvoiceDocumentReference><cac:InvoiceDocumentReference><cbc:ID>INV-2</cbc:ID></cac:InvoiceDocumentReference></cac:BillingReference>\n  ')],
  'one-invoice', 'a billing reference to one invoice', [at(SUP, '<cac:BillingReference><cac:InvoiceDocumentReference><cbc:ID>INV-1</cbc:ID></cac:InvoiceDocumentReference></cac:BillingReference>\n  ')])
c('ibr-co-26', 'no-seller-id', 'a seller without any identifier', [(SUP_PID, ''), (SUP_LEGAL, ''), (SUP_GST, ''), ('<cac:PartyIdentification>\n        \n      </cac:PartyIdentification>', '')])
c('ibr-081', 'no-seller-endpoint', 'no seller endpoint', [(SUP_EP, '')])
c('ibr-sr-42', 'three-tax-schemes', 'a seller with three party tax schemes', [at('<cac:PartyLegalEntity>\n        ' + SUP_REG, '<cac:PartyTaxScheme><cbc:CompanyID>x</cbc:CompanyID><cac:TaxScheme><cbc:ID>A</cbc:ID></cac:TaxScheme></cac:PartyTaxScheme><cac:PartyTaxScheme><cbc:CompanyID>y</cbc:CompanyID><cac:TaxScheme><cbc:ID>B</cbc:ID></cac:TaxScheme></cac:PartyTaxScheme>')],
  'two-tax-schemes', 'a seller with two party tax schemes', [at('<cac:PartyLegalEntity>\n        ' + SUP_REG, '<cac:PartyTaxScheme><cbc:CompanyID>x</cbc:CompanyID><cac:TaxScheme><cbc:ID>A</cbc:ID></cac:TaxScheme></cac:PartyTaxScheme>')])
c('ibr-062', 'no-scheme', 'seller endpoint without scheme', [(SUP_EP, '<cbc:EndpointID>9429041535097</cbc:EndpointID>')])
c('ibr-009', 'no-country', 'seller address without country',
  [('<cbc:IdentificationCode>NZ</cbc:IdentificationCode>\n        </cac:Country>\n      </cac:PostalAddress>\n      <cac:PartyTaxScheme>\n        ' + SUP_GST,
    '<cbc:IdentificationCode> </cbc:IdentificationCode>\n        </cac:Country>\n      </cac:PostalAddress>\n      <cac:PartyTaxScheme>\n        ' + SUP_GST)])
c('ibr-sr-53', 'two-lines', 'seller address with two lines', [after(SUP_ADDR, '<cac:AddressLine><cbc:Line>a</cbc:Line></cac:AddressLine><cac:AddressLine><cbc:Line>b</cbc:Line></cac:AddressLine>')],
  'one-line', 'seller address with one line', [after(SUP_ADDR, '<cac:AddressLine><cbc:Line>a</cbc:Line></cac:AddressLine>')])
REP = '<cac:TaxRepresentativeParty>%s</cac:TaxRepresentativeParty>\n  '
REP_OK = '<cac:PartyName><cbc:Name>Rep Ltd</cbc:Name></cac:PartyName><cac:PostalAddress><cac:Country><cbc:IdentificationCode>NZ</cbc:IdentificationCode></cac:Country></cac:PostalAddress><cac:PartyTaxScheme><cbc:CompanyID>49098576</cbc:CompanyID><cac:TaxScheme><cbc:ID>GST</cbc:ID></cac:TaxScheme></cac:PartyTaxScheme>'
c('ibr-018', 'no-name', 'a tax representative without name', [at(PM, REP % REP_OK.replace('<cac:PartyName><cbc:Name>Rep Ltd</cbc:Name></cac:PartyName>', ''))], 'complete', 'a complete tax representative', [at(PM, REP % REP_OK)])
c('ibr-019', 'no-address', 'a tax representative without address', [at(PM, REP % REP_OK.replace('<cac:PostalAddress><cac:Country><cbc:IdentificationCode>NZ</cbc:IdentificationCode></cac:Country></cac:PostalAddress>', ''))], 'complete', 'a complete tax representative', [at(PM, REP % REP_OK)])
c('ibr-056', 'no-tax-id', 'a tax representative without tax id', [at(PM, REP % REP_OK.split('<cac:PartyTaxScheme>')[0])], 'complete', 'a complete tax representative', [at(PM, REP % REP_OK)])
c('ibr-sr-22', 'two-names', 'a tax representative with two names', [at(PM, REP % ('<cac:PartyName><cbc:Name>Rep 2</cbc:Name></cac:PartyName>' + REP_OK))], 'complete', 'a complete tax representative', [at(PM, REP % REP_OK)])
c('ibr-sr-23', 'two-tax-ids', 'a tax representative with two tax ids (under a cac:Party child, as the official rule reads it)', [at(PM, REP % (REP_OK + '<cac:Party><cac:PartyTaxScheme><cbc:CompanyID>1</cbc:CompanyID></cac:PartyTaxScheme><cac:PartyTaxScheme><cbc:CompanyID>2</cbc:CompanyID></cac:PartyTaxScheme></cac:Party>'))],
  'complete', 'a complete tax representative', [at(PM, REP % REP_OK)])
c('ibr-020', 'no-country', 'a tax representative address without country', [at(PM, REP % REP_OK.replace('<cac:Country><cbc:IdentificationCode>NZ</cbc:IdentificationCode></cac:Country>', '<cbc:CityName>Auckland</cbc:CityName>'))], 'complete', 'a complete tax representative', [at(PM, REP % REP_OK)])
c('ibr-sr-55', 'two-lines', 'a tax representative address with two lines', [at(PM, REP % REP_OK.replace('<cac:PostalAddress>', '<cac:PostalAddress><cac:AddressLine><cbc:Line>a</cbc:Line></cac:AddressLine><cac:AddressLine><cbc:Line>b</cbc:Line></cac:AddressLine>'))], 'complete', 'a complete tax representative', [at(PM, REP % REP_OK)])
c('ibr-124', 'three-decimals', 'total tax with 3 decimals', [(TT_AMT, '<cbc:TaxAmount currencyID="NZD">106.350</cbc:TaxAmount>\n    <cac:TaxSubtotal>')])
c('ibr-co-14', 'sum-off', 'total tax 106.36 for a breakdown of 106.35', [(TT_AMT, '<cbc:TaxAmount currencyID="NZD">106.36</cbc:TaxAmount>\n    <cac:TaxSubtotal>')])
c('ibr-sr-32', 'two-exemptions', 'a breakdown with two exemption reasons', [(SUB_CAT, SUB_CAT + '<cbc:TaxExemptionReason>a</cbc:TaxExemptionReason><cbc:TaxExemptionReason>b</cbc:TaxExemptionReason>')])
c('ibr-sr-57', 'no-company-id', 'a party tax scheme without company id', [(CUS_GST, '')])
c('ibr-073', 'short-date', 'issue date 2026-11-2', [('<cbc:IssueDate>2026-11-20', '<cbc:IssueDate>2026-11-2')])
c('ibr-119', 'bad-time', 'issue time 25:00:00', [('<cbc:DueDate>', '<cbc:IssueTime>25:00:00</cbc:IssueTime><cbc:DueDate>')],
  'time', 'issue time 10:30:00+13:00', [('<cbc:DueDate>', '<cbc:IssueTime>10:30:00+13:00</cbc:IssueTime><cbc:DueDate>')])
ATT = '<cbc:ID>A1</cbc:ID><cac:Attachment><cbc:EmbeddedDocumentBinaryObject%s>JVBE</cbc:EmbeddedDocumentBinaryObject></cac:Attachment>'
c('ibr-074', 'no-mime', 'an attachment without mimeCode', [adr(ATT % ' filename="a.pdf"')], 'mime', 'an attachment with mimeCode', [adr(ATT % ' mimeCode="application/pdf" filename="a.pdf"')])
c('ibr-075', 'no-filename', 'an attachment without filename', [adr(ATT % ' mimeCode="application/pdf"')], 'filename', 'an attachment with filename', [adr(ATT % ' mimeCode="application/pdf" filename="a.pdf"')])
c('ibr-077', 'same-currency', 'tax currency NZD = document currency', [(CUR, CUR + '<cbc:TaxCurrencyCode>NZD</cbc:TaxCurrencyCode>')],
  'other-currency', 'tax currency AUD', [TAXCUR, TT_AUD])
c('ibr-079', 'empty-note', 'an empty note', [(NOTE, '<cbc:Note/>')])
c('ibr-088', 'unit-differs', 'price base quantity in EA, quantity in XBX', [after(L1_PRICE, '<cbc:BaseQuantity unitCode="EA">1</cbc:BaseQuantity>')],
  'same-unit', 'both in XBX', [after(L1_PRICE, '<cbc:BaseQuantity unitCode="XBX">1</cbc:BaseQuantity>')])
DLR = '<cac:DespatchLineReference><cbc:LineID>1</cbc:LineID><cac:DocumentReference><cbc:ID>DA-1</cbc:ID></cac:DocumentReference></cac:DespatchLineReference>'
c('ibr-092', 'both-levels', 'despatch references on line and document level', [after(L1_OLR, DLR), at(SUP, '<cac:DespatchDocumentReference><cbc:ID>DA-1</cbc:ID></cac:DespatchDocumentReference>\n  ')],
  'line-only', 'a despatch reference on the line only', [after(L1_OLR, DLR)])
c('ibr-sr-62', 'two-refs', 'a despatch line reference with two documents', [after(L1_OLR, DLR.replace('</cac:DespatchLineReference>', '<cac:DocumentReference><cbc:ID>DA-2</cbc:ID></cac:DocumentReference></cac:DespatchLineReference>'))],
  'one-ref', 'a despatch line reference with one document', [after(L1_OLR, DLR)])
PREP = at(TAXTOTAL, '<cac:PrepaidPayment><cbc:PaidAmount currencyID="NZD">100.00</cbc:PaidAmount></cac:PrepaidPayment>\n  ')
c('ibr-093', 'no-prepaid-total', 'a prepaid payment without total paid amount', [PREP],
  'prepaid-total', 'a prepaid payment with total paid amount', [PREP, (LMT_TIA, LMT_TIA + '<cbc:PrepaidAmount currencyID="NZD">100.00</cbc:PrepaidAmount>'), (LMT_PAY, '<cbc:PayableAmount currencyID="NZD">715.35</cbc:PayableAmount>')])
c('ibr-108', 'two-names', 'a delivery party with two names', [at(PM, '<cac:Delivery><cac:DeliveryParty><cac:PartyName><cbc:Name>a</cbc:Name></cac:PartyName><cac:PartyName><cbc:Name>b</cbc:Name></cac:PartyName></cac:DeliveryParty></cac:Delivery>\n  ')],
  'one-name', 'a delivery party with one name', [at(PM, '<cac:Delivery><cac:DeliveryParty><cac:PartyName><cbc:Name>a</cbc:Name></cac:PartyName></cac:DeliveryParty></cac:Delivery>\n  ')])
# ---------- code lists ----------
c('ibr-cl-03', 'bad-currency', 'amount currency NZDX', [(L1_PRICE, '<cbc:PriceAmount currencyID="NZDX">45.00</cbc:PriceAmount>')])
c('ibr-cl-04', 'bad-currency', 'document currency XYZ', [(CUR, '<cbc:DocumentCurrencyCode>XYZ</cbc:DocumentCurrencyCode>')])
c('ibr-cl-05', 'bad-currency', 'tax currency XYZ', [(CUR, CUR + '<cbc:TaxCurrencyCode>XYZ</cbc:TaxCurrencyCode>')], 'aud', 'tax currency AUD', [TAXCUR, TT_AUD])
c('ibr-cl-07', 'bad-scheme', 'invoiced object scheme XXXX', [adr('<cbc:ID schemeID="XXXX">O1</cbc:ID><cbc:DocumentTypeCode>130</cbc:DocumentTypeCode>')],
  'scheme-AAA', 'invoiced object scheme AAA', [adr('<cbc:ID schemeID="AAA">O1</cbc:ID><cbc:DocumentTypeCode>130</cbc:DocumentTypeCode>')])
c('ibr-cl-10', 'sepa-buyer', 'SEPA scheme on a buyer identifier', [(CUS_PID, '<cbc:ID schemeID="SEPA">X1</cbc:ID>')],
  'sepa-seller', 'SEPA scheme on a seller identifier', [(SUP_PID, '<cbc:ID schemeID="SEPA">X1</cbc:ID>')])
c('ibr-cl-11', 'bad-scheme', 'legal identifier scheme 9999', [(CUS_LEGAL, '<cbc:CompanyID schemeID="9999">9429049990003</cbc:CompanyID>')])
c('ibr-cl-13', 'bad-list', 'item classification list XX9', [(L1_SELLERS, L1_SELLERS + '<cac:CommodityClassification><cbc:ItemClassificationCode listID="XX9">1</cbc:ItemClassificationCode></cac:CommodityClassification>')],
  'list-MP', 'item classification list MP', [(L1_SELLERS, L1_SELLERS + '<cac:CommodityClassification><cbc:ItemClassificationCode listID="MP">1</cbc:ItemClassificationCode></cac:CommodityClassification>')])
c('ibr-cl-14', 'bad-country', 'country QQ', [('<cbc:IdentificationCode>NZ</cbc:IdentificationCode>\n        </cac:Country>\n      </cac:PostalAddress>\n      <cac:PartyTaxScheme>\n        ' + CUS_GST,
    '<cbc:IdentificationCode>QQ</cbc:IdentificationCode>\n        </cac:Country>\n      </cac:PostalAddress>\n      <cac:PartyTaxScheme>\n        ' + CUS_GST)])
c('ibr-cl-15', 'bad-origin', 'origin country QQ', [(L1_SELLERS, L1_SELLERS + '<cac:OriginCountry><cbc:IdentificationCode>QQ</cbc:IdentificationCode></cac:OriginCountry>')],
  'origin', 'origin country AU', [(L1_SELLERS, L1_SELLERS + '<cac:OriginCountry><cbc:IdentificationCode>AU</cbc:IdentificationCode></cac:OriginCountry>')])
c('ibr-cl-16', 'code-69', 'payment means 69 (not in the A-NZ list)', [(PM_CODE, '<cbc:PaymentMeansCode>69</cbc:PaymentMeansCode>')],
  'code-Z01', 'payment means Z01', [(PM_CODE, '<cbc:PaymentMeansCode>Z01</cbc:PaymentMeansCode>')])
c('ibr-cl-19', 'code-1', 'allowance reason code 1', [line_ac('false', '0.00', '<cbc:AllowanceChargeReasonCode>1</cbc:AllowanceChargeReasonCode>')],
  'code-95', 'allowance reason code 95', [line_ac('false', '0.00')])
c('ibr-cl-20', 'code-XX', 'charge reason code XX', [line_ac('true', '0.00', '<cbc:AllowanceChargeReasonCode>XX</cbc:AllowanceChargeReasonCode>')],
  'code-FC', 'charge reason code FC', [line_ac('true', '0.00', '<cbc:AllowanceChargeReasonCode>FC</cbc:AllowanceChargeReasonCode>')])
c('ibr-cl-21', 'bad-scheme', 'standard item id scheme 9999', [(L1_SELLERS, L1_SELLERS + '<cac:StandardItemIdentification><cbc:ID schemeID="9999">1</cbc:ID></cac:StandardItemIdentification>')],
  'scheme-0160', 'standard item id scheme 0160', [(L1_SELLERS, L1_SELLERS + '<cac:StandardItemIdentification><cbc:ID schemeID="0160">9429041535097</cbc:ID></cac:StandardItemIdentification>')])
c('ibr-cl-23', 'bad-unit', 'unit code BOX', [(L1_QTY, '<cbc:InvoicedQuantity unitCode="BOX">10</cbc:InvoicedQuantity>')])
c('ibr-cl-24', 'gif', 'attachment image/gif', [adr(ATT % ' mimeCode="image/gif" filename="a.gif"')], 'xml', 'attachment application/xml', [adr(ATT % ' mimeCode="application/xml" filename="a.xml"')])
c('ibr-cl-25', 'scheme-GLN', 'endpoint scheme GLN', [(CUS_EP, '<cbc:EndpointID schemeID="GLN">9429049990003</cbc:EndpointID>')])
c('ibr-cl-26', 'bad-scheme', 'delivery location scheme 9999', [at(PM, '<cac:Delivery><cac:DeliveryLocation><cbc:ID schemeID="9999">1</cbc:ID></cac:DeliveryLocation></cac:Delivery>\n  ')],
  'gln', 'delivery location scheme 0088', [at(PM, '<cac:Delivery><cac:DeliveryLocation><cbc:ID schemeID="0088">9429049990003</cbc:ID></cac:DeliveryLocation></cac:Delivery>\n  ')])
# ---------- aligned rules ----------
c('aligned-ibrp-sr-43', 'scheme-on-other', 'a supporting document with a scheme id but no type code 130', [adr('<cbc:ID schemeID="AAA">D1</cbc:ID>')],
  'object', 'an invoiced object with a scheme id', [adr('<cbc:ID schemeID="AAA">O1</cbc:ID><cbc:DocumentTypeCode>130</cbc:DocumentTypeCode>')])
c('aligned-ibrp-004', 'gross-off', 'net 45.00 is not gross 50.00 - 4.00', [after(L1_PRICE, '<cac:AllowanceCharge><cbc:ChargeIndicator>false</cbc:ChargeIndicator><cbc:Amount currencyID="NZD">4.00</cbc:Amount><cbc:BaseAmount currencyID="NZD">50.00</cbc:BaseAmount></cac:AllowanceCharge>')],
  'gross-ok', 'net 45.00 = gross 50.00 - 5.00', [after(L1_PRICE, PRICE_AC % 'false')])
c('aligned-ibrp-054', 'percent-off', 'allowance 9.00 for 10 % of 100.00', [doc_ac('false', '9.00', extra='<cbc:MultiplierFactorNumeric>10</cbc:MultiplierFactorNumeric><cbc:BaseAmount currencyID="NZD">100.00</cbc:BaseAmount>')] + ALLOW_OK[1:],
  'percent-ok', 'allowance 9.00 for 9 % of 100.00', [doc_ac('false', '9.00', extra='<cbc:MultiplierFactorNumeric>9</cbc:MultiplierFactorNumeric><cbc:BaseAmount currencyID="NZD">100.00</cbc:BaseAmount>')] + ALLOW_OK[1:])
c('aligned-ibrp-032-aunz', 'no-category', 'a document allowance without GST category',
  [at(TAXTOTAL, '<cac:AllowanceCharge><cbc:ChargeIndicator>false</cbc:ChargeIndicator><cbc:AllowanceChargeReasonCode>95</cbc:AllowanceChargeReasonCode><cbc:Amount currencyID="NZD">9.00</cbc:Amount></cac:AllowanceCharge>\n  ')] + ALLOW_OK[1:],
  'allowance', 'a correct document level allowance', ALLOW_OK)
c('aligned-ibrp-057', 'base-only', 'an allowance with base amount but no percentage', [doc_ac('false', '9.00', extra='<cbc:BaseAmount currencyID="NZD">100.00</cbc:BaseAmount>')] + ALLOW_OK[1:],
  'allowance', 'a correct document level allowance', ALLOW_OK)
c('aligned-ibrp-055', 'percent-off', 'charge 11.00 for 10 % of 100.00', [doc_ac('true', '11.00', reason='<cbc:AllowanceChargeReasonCode>FC</cbc:AllowanceChargeReasonCode>', extra='<cbc:MultiplierFactorNumeric>10</cbc:MultiplierFactorNumeric><cbc:BaseAmount currencyID="NZD">100.00</cbc:BaseAmount>')] + CHARGE_OK[1:],
  'percent-ok', 'charge 11.00 for 11 % of 100.00', [doc_ac('true', '11.00', reason='<cbc:AllowanceChargeReasonCode>FC</cbc:AllowanceChargeReasonCode>', extra='<cbc:MultiplierFactorNumeric>11</cbc:MultiplierFactorNumeric><cbc:BaseAmount currencyID="NZD">100.00</cbc:BaseAmount>')] + CHARGE_OK[1:])
c('aligned-ibrp-037-aunz', 'no-category', 'a document charge without GST category',
  [at(TAXTOTAL, '<cac:AllowanceCharge><cbc:ChargeIndicator>true</cbc:ChargeIndicator><cbc:AllowanceChargeReasonCode>FC</cbc:AllowanceChargeReasonCode><cbc:Amount currencyID="NZD">11.00</cbc:Amount></cac:AllowanceCharge>\n  ')] + CHARGE_OK[1:],
  'charge', 'a correct document level charge', CHARGE_OK)
c('aligned-ibrp-058', 'percent-only', 'a charge with percentage but no base amount', [doc_ac('true', '11.00', reason='<cbc:AllowanceChargeReasonCode>FC</cbc:AllowanceChargeReasonCode>', extra='<cbc:MultiplierFactorNumeric>11</cbc:MultiplierFactorNumeric>')] + CHARGE_OK[1:],
  'charge', 'a correct document level charge', CHARGE_OK)
c('aligned-ibrp-050-aunz', 'vat-scheme', 'a line category under scheme VAT instead of GST', [(L1_CAT, L1_CAT.replace('<cbc:ID>GST</cbc:ID>', '<cbc:ID>VAT</cbc:ID>'))])
c('aligned-ibrp-053', 'net-off', 'line 1: 10 x 45.00 is not 450.03', [(L1_LEA, '<cbc:LineExtensionAmount currencyID="NZD">450.03</cbc:LineExtensionAmount>')],
  'base-quantity', 'line 1: 10 x (90.00 / 2) = 450.00', [(L1_PRICE, '<cbc:PriceAmount currencyID="NZD">90.00</cbc:PriceAmount><cbc:BaseQuantity unitCode="XBX">2</cbc:BaseQuantity>')])
c('aligned-ibrp-059', 'two-categories', 'an item with two tax categories', [(L1_CAT, L1_CAT.replace('</cac:ClassifiedTaxCategory>', '</cac:ClassifiedTaxCategory><cac:ClassifiedTaxCategory><cbc:ID>S</cbc:ID><cbc:Percent>15</cbc:Percent><cac:TaxScheme><cbc:ID>GST</cbc:ID></cac:TaxScheme></cac:ClassifiedTaxCategory>', 1))])
c('aligned-ibrp-060', 'type-50', 'a line document reference of type 50', [after(L1_OLR, '<cac:DocumentReference><cbc:ID>X</cbc:ID><cbc:DocumentTypeCode>50</cbc:DocumentTypeCode></cac:DocumentReference>')],
  'type-130', 'a line document reference of type 130', [after(L1_OLR, LDOC % 1)])
c('aligned-ibrp-006', 'both', 'tax point date and tax point date code', [('<cbc:DueDate>', '<cbc:TaxPointDate>2026-11-20</cbc:TaxPointDate><cbc:DueDate>'), at(ORDREF, '<cac:InvoicePeriod><cbc:DescriptionCode>3</cbc:DescriptionCode></cac:InvoicePeriod>\n  ')],
  'date-only', 'tax point date only', [('<cbc:DueDate>2026-12-20</cbc:DueDate>', '<cbc:DueDate>2026-12-20</cbc:DueDate>'), ('<cbc:InvoiceTypeCode>', '<cbc:TaxPointDate>2026-11-20</cbc:TaxPointDate><cbc:InvoiceTypeCode>')])
c('aligned-ibrp-003', 'no-reference', 'neither buyer nor order reference', [('<cbc:BuyerReference>PO-88120</cbc:BuyerReference>', ''), (ORDREF, '')],
  'order-only', 'order reference only', [('<cbc:BuyerReference>PO-88120</cbc:BuyerReference>', '')])
c('aligned-ibrp-008', 'two-terms', 'two payment terms', [dup('<cac:PaymentTerms>\n    ' + TERMS + '\n  </cac:PaymentTerms>')])
c('aligned-ibrp-021', 'two-tax-totals', 'two tax totals with subtotals', [at(LMT, '<cac:TaxTotal><cbc:TaxAmount currencyID="NZD">0</cbc:TaxAmount><cac:TaxSubtotal><cbc:TaxableAmount currencyID="NZD">0</cbc:TaxableAmount><cbc:TaxAmount currencyID="NZD">0</cbc:TaxAmount><cac:TaxCategory><cbc:ID>S</cbc:ID><cbc:Percent>15</cbc:Percent><cac:TaxScheme><cbc:ID>GST</cbc:ID></cac:TaxScheme></cac:TaxCategory></cac:TaxSubtotal></cac:TaxTotal>\n  ')])
c('aligned-ibrp-022', 'no-accounting-total', 'tax currency without a tax total in it', [TAXCUR],
  'accounting-total', 'tax currency with its tax total', [TAXCUR, TT_AUD])
c('aligned-ibrp-sr-12-aunz', 'two-gst-ids', 'two seller GST identifiers', [(SUP_GST + '\n        <cac:TaxScheme>\n          <cbc:ID>GST</cbc:ID>\n        </cac:TaxScheme>\n      </cac:PartyTaxScheme>',
                                                                           SUP_GST + '\n        <cac:TaxScheme>\n          <cbc:ID>GST</cbc:ID>\n        </cac:TaxScheme>\n      </cac:PartyTaxScheme><cac:PartyTaxScheme><cbc:CompanyID>49098576</cbc:CompanyID><cac:TaxScheme><cbc:ID>GST</cbc:ID></cac:TaxScheme></cac:PartyTaxScheme>')])
c('aligned-ibrp-sr-13-aunz', 'two-registrations', 'two other seller tax registrations', [at('<cac:PartyLegalEntity>\n        ' + SUP_REG, '<cac:PartyTaxScheme><cbc:CompanyID>x</cbc:CompanyID><cac:TaxScheme><cbc:ID>TAX</cbc:ID></cac:TaxScheme></cac:PartyTaxScheme><cac:PartyTaxScheme><cbc:CompanyID>y</cbc:CompanyID><cac:TaxScheme><cbc:ID>TAX</cbc:ID></cac:TaxScheme></cac:PartyTaxScheme>')],
  'one-registration', 'one other seller tax registration', [at('<cac:PartyLegalEntity>\n        ' + SUP_REG, '<cac:PartyTaxScheme><cbc:CompanyID>x</cbc:CompanyID><cac:TaxScheme><cbc:ID>TAX</cbc:ID></cac:TaxScheme></cac:PartyTaxScheme>')])
c('aligned-ibrp-005', 'three-decimals', 'a line net amount with 3 decimals', [(L1_LEA, '<cbc:LineExtensionAmount currencyID="NZD">450.000</cbc:LineExtensionAmount>')],
  'price-decimals', 'a price with 4 decimals (prices are exempt)', [(L1_PRICE, '<cbc:PriceAmount currencyID="NZD">45.0000</cbc:PriceAmount>')])
c('aligned-ibrp-045', 'no-taxable', 'a breakdown without taxable amount', [(SUB_TAXABLE, '')])
c('aligned-ibrp-046', 'no-tax', 'a breakdown without tax amount', [(SUB_TAX, '<cac:TaxCategory>')])
c('aligned-ibrp-047-aunz', 'vat-scheme', 'a breakdown under scheme VAT', [(SUB_CAT + '\n        <cac:TaxScheme>\n          <cbc:ID>GST</cbc:ID>', SUB_CAT + '\n        <cac:TaxScheme>\n          <cbc:ID>VAT</cbc:ID>')])
c('aligned-ibrp-048-aunz', 'no-rate', 'an S breakdown without rate', [(SUB_CAT, '<cac:TaxCategory>\n        <cbc:ID>S</cbc:ID>')])
c('aligned-ibrp-051-aunz', 'tax-off', 'breakdown tax 108.00 for 15 % of 709.00 (106.35)', [(SUB_TAX, '<cbc:TaxAmount currencyID="NZD">108.00</cbc:TaxAmount>\n      <cac:TaxCategory>')],
  'within-one', 'breakdown tax 107.00 (within 1 of 106.35)', [(SUB_TAX, '<cbc:TaxAmount currencyID="NZD">107.00</cbc:TaxAmount>\n      <cac:TaxCategory>')])
c('aligned-ibrp-016', 'no-account', 'a credit transfer with an empty account id', [(PAYEE_ID, '<cbc:ID> </cbc:ID>')])
c('aligned-ibrp-061', 'no-due', 'an amount due without due date or terms', [('<cbc:DueDate>2026-12-20</cbc:DueDate>', ''), ('<cac:PaymentTerms>\n    ' + TERMS + '\n  </cac:PaymentTerms>', '')],
  'terms-only', 'an amount due with payment terms only', [('<cbc:DueDate>2026-12-20</cbc:DueDate>', '')])
c('aligned-ibrp-018', 'no-account', 'a credit transfer without account', [('<cac:PayeeFinancialAccount>\n      ' + PAYEE_ID + '\n      <cbc:Name>Kauri Office Supplies Limited</cbc:Name>\n    </cac:PayeeFinancialAccount>', '')])
c('aligned-ibrp-065', 'two-payment-ids', 'payment means with two payment ids', [dup(PAYID)])
# GST categories S and breakdown rules
c('aligned-ibrp-s-01-aunz', 'no-s-breakdown', 'S lines with a Z breakdown', [(SUB_CAT, '<cac:TaxCategory>\n        <cbc:ID>Z</cbc:ID>\n        <cbc:Percent>0</cbc:Percent>')])
c('aligned-ibrp-s-05-aunz', 'zero-rate', 'an S line with rate 0', [(L1_CAT, L1_CAT.replace('<cbc:Percent>15</cbc:Percent>', '<cbc:Percent>0</cbc:Percent>', 1))])
c('aligned-ibrp-s-06-aunz', 'zero-rate', 'an S allowance with rate 0', [doc_ac('false', '9.00', pct='0')] + ALLOW_OK[1:], 'allowance', 'an S allowance at 15 %', ALLOW_OK)
c('aligned-ibrp-s-07-aunz', 'zero-rate', 'an S charge with rate 0', [doc_ac('true', '11.00', pct='0', reason='<cbc:AllowanceChargeReasonCode>FC</cbc:AllowanceChargeReasonCode>')] + CHARGE_OK[1:], 'charge', 'an S charge at 15 %', CHARGE_OK)
c('aligned-ibrp-s-08-aunz', 'taxable-off', 'S breakdown taxable 711.00 for lines of 709.00', [(SUB_TAXABLE, '<cbc:TaxableAmount currencyID="NZD">711.00</cbc:TaxableAmount>')],
  'allowance', 'S breakdown 700.00 = 709.00 - 9.00 allowance', ALLOW_OK)
c('aligned-ibrp-s-09-aunz', 'tax-off', 'S breakdown tax 108.00 for 15 % of 709.00', [(SUB_TAX, '<cbc:TaxAmount currencyID="NZD">108.00</cbc:TaxAmount>\n      <cac:TaxCategory>')])
c('aligned-ibrp-s-10-aunz', 'exemption', 'an S breakdown with an exemption reason', [(SUB_CAT, SUB_CAT + '<cbc:TaxExemptionReason>why</cbc:TaxExemptionReason>')])

# Z, E, G, O: a whole-document category change ('ALL:<cat>:<rate>')
for cat, name in (('Z', 'zero rated'), ('E', 'exempt'), ('G', 'export'), ('O', 'not subject to tax')):
    lc = cat.lower()
    rate = None if cat == 'O' else '0'
    ALL = ['ALL:%s:%s' % (cat, '' if rate is None else rate)]
    if cat != 'O':
        c('aligned-ibrp-%s-05-aunz' % lc, 'rate-15', 'a %s line with rate 15' % cat, ALL + [('ALLRATE1', '15')], 'all-' + lc, 'a document all in category ' + cat, ALL)
        c('aligned-ibrp-%s-06-aunz' % lc, 'rate-15', 'a %s allowance with rate 15' % cat, ALL + [doc_ac('false', '0.00', cat=cat, pct='15')], 'allowance', 'a %s allowance at rate 0' % cat, ALL + [doc_ac('false', '0.00', cat=cat, pct='0')])
        c('aligned-ibrp-%s-07-aunz' % lc, 'rate-15', 'a %s charge with rate 15' % cat, ALL + [doc_ac('true', '0.00', cat=cat, pct='15', reason='<cbc:AllowanceChargeReasonCode>FC</cbc:AllowanceChargeReasonCode>')], 'charge', 'a %s charge at rate 0' % cat, ALL + [doc_ac('true', '0.00', cat=cat, pct='0', reason='<cbc:AllowanceChargeReasonCode>FC</cbc:AllowanceChargeReasonCode>')])
    else:
        c('aligned-ibrp-o-05-aunz', 'rate', 'an O line with a rate', ALL + [('ALLRATE1', '0')], 'all-o', 'a document all in category O', ALL)
        c('aligned-ibrp-o-06-aunz', 'rate', 'an O allowance with a rate', ALL + [doc_ac('false', '0.00', cat='O', pct='0')], 'allowance', 'an O allowance without rate', ALL + [doc_ac('false', '0.00', cat='O', pct=None)])
        c('aligned-ibrp-o-07-aunz', 'rate', 'an O charge with a rate', ALL + [doc_ac('true', '0.00', cat='O', pct='0', reason='<cbc:AllowanceChargeReasonCode>FC</cbc:AllowanceChargeReasonCode>')], 'charge', 'an O charge without rate', ALL + [doc_ac('true', '0.00', cat='O', pct=None, reason='<cbc:AllowanceChargeReasonCode>FC</cbc:AllowanceChargeReasonCode>')])
    c('aligned-ibrp-%s-08-aunz' % lc, 'taxable-off', 'the %s breakdown taxable amount off by 1.00' % cat, ALL + [('<cbc:TaxableAmount currencyID="NZD">709.00</cbc:TaxableAmount>', '<cbc:TaxableAmount currencyID="NZD">710.00</cbc:TaxableAmount>')], 'all-' + lc, 'a document all in category ' + cat, ALL)
    c('aligned-ibrp-%s-09-aunz' % lc, 'tax', 'a %s breakdown with tax 1.00' % cat, ALL + [('<cbc:TaxAmount currencyID="NZD">0.00</cbc:TaxAmount>\n      <cac:TaxCategory>', '<cbc:TaxAmount currencyID="NZD">1.00</cbc:TaxAmount>\n      <cac:TaxCategory>')], 'all-' + lc, 'a document all in category ' + cat, ALL)
    c('aligned-ibrp-%s-01-aunz' % lc, 'no-breakdown', '%s lines with an S breakdown' % cat, [('ALLCAT-LINES', cat + ':' + ('' if rate is None else rate))], 'all-' + lc, 'a document all in category ' + cat, ALL)
c('aligned-ibrp-z-10-aunz', 'exemption', 'a Z breakdown with an exemption reason', ['ALL:Z:0', ('SUBCAT', '<cbc:TaxExemptionReason>why</cbc:TaxExemptionReason>')], 'all-z', 'a document all in category Z', ['ALL:Z:0'])
c('aligned-ibrp-o-11-aunz', 'o-and-s', 'an O breakdown next to an S breakdown', ['ALL:O:', at('</cac:TaxTotal>', '')] + [('</cac:TaxSubtotal>\n  </cac:TaxTotal>', '</cac:TaxSubtotal><cac:TaxSubtotal><cbc:TaxableAmount currencyID="NZD">0.00</cbc:TaxableAmount><cbc:TaxAmount currencyID="NZD">0.00</cbc:TaxAmount><cac:TaxCategory><cbc:ID>S</cbc:ID><cbc:Percent>15</cbc:Percent><cac:TaxScheme><cbc:ID>GST</cbc:ID></cac:TaxScheme></cac:TaxCategory></cac:TaxSubtotal>\n  </cac:TaxTotal>')],
  'all-o', 'a document all in category O', ['ALL:O:'])
c('aligned-ibrp-o-12-aunz', 'o-and-s-line', 'an O breakdown with an S line', ['ALL:O:', ('ALLRATE1', 'S-LINE')], 'all-o', 'a document all in category O', ['ALL:O:'])
c('aligned-ibrp-o-13-aunz', 'o-and-s-allowance', 'an O breakdown with an S allowance', ['ALL:O:', doc_ac('false', '0.00')], 'o-allowance', 'an O breakdown with an O allowance', ['ALL:O:', doc_ac('false', '0.00', cat='O', pct=None)])
c('aligned-ibrp-o-14-aunz', 'o-and-s-charge', 'an O breakdown with an S charge', ['ALL:O:', doc_ac('true', '0.00', reason='<cbc:AllowanceChargeReasonCode>FC</cbc:AllowanceChargeReasonCode>')], 'o-charge', 'an O breakdown with an O charge', ['ALL:O:', doc_ac('true', '0.00', cat='O', pct=None, reason='<cbc:AllowanceChargeReasonCode>FC</cbc:AllowanceChargeReasonCode>')])
c('aligned-ibrp-cl-01-aunz', 'category-AE', 'a line in category AE', [(L1_CAT, L1_CAT.replace('<cbc:ID>S</cbc:ID>', '<cbc:ID>AE</cbc:ID>', 1))])
c('aligned-ibrp-cl-02', 'code-1', 'tax point date code 1', [at(ORDREF, '<cac:InvoicePeriod><cbc:DescriptionCode>1</cbc:DescriptionCode></cac:InvoicePeriod>\n  ')],
  'code-3', 'tax point date code 3', [at(ORDREF, '<cac:InvoicePeriod><cbc:DescriptionCode>3</cbc:DescriptionCode></cac:InvoicePeriod>\n  ')])
c('aligned-ibrp-cl-04', 'xml', 'attachment application/xml (not in the aligned subset)', [adr(ATT % ' mimeCode="application/xml" filename="a.xml"')],
  'pdf', 'attachment application/pdf', [adr(ATT % ' mimeCode="application/pdf" filename="a.pdf"')])
c('aligned-ibr-002-aunz', 'no-nzbn', 'an NZ seller without NZBN legal id', [(SUP_LEGAL, '')])
c('aligned-ibr-005-aunz', 'no-nzbn', 'an NZ buyer with a non-NZBN legal id', [(CUS_LEGAL, '<cbc:CompanyID schemeID="0151">51824753556</cbc:CompanyID>')])
c('aligned-ibr-001-aunz', 'no-abn', 'an AU seller without ABN legal id', [AU, ('<cbc:CompanyID schemeID="0151">51824753556</cbc:CompanyID>\n      </cac:PartyLegalEntity>\n      <cac:Contact>', '</cac:PartyLegalEntity>\n      <cac:Contact>')],
  'abn', 'an AU seller with ABN', [AU])
c('aligned-ibr-004-aunz', 'no-abn', 'an AU buyer with an NZBN legal id', [AU, ('<cbc:CompanyID schemeID="0151">91888222000</cbc:CompanyID>', '<cbc:CompanyID schemeID="0088">9429049990003</cbc:CompanyID>')],
  'abn', 'an AU buyer with ABN', [AU])
c('SECMX-AUNZ-001', 'bad-gst', 'NZ seller GST number 49091851 (bad check digit)', [(SUP_GST, '<cbc:CompanyID>49091851</cbc:CompanyID>')],
  'gst-hyphens', 'NZ seller GST number written 49-091-850', [(SUP_GST, '<cbc:CompanyID>49-091-850</cbc:CompanyID>')])
c('SECMX-AUNZ-002', 'bad-abn', 'AU seller GST registration 51824753557', [AU, ('<cbc:CompanyID>51824753556</cbc:CompanyID>\n        <cac:TaxScheme>', '<cbc:CompanyID>51824753557</cbc:CompanyID>\n        <cac:TaxScheme>')],
  'abn', 'AU seller GST registration = ABN', [AU])

# profile-specific files
case('pint-aunz-billing', 'aligned-ibrp-001-aunz', 1, 'other-customization', 'a Peppol BIS customization', [('<cbc:CustomizationID>urn:peppol:pint:billing-1@aunz-1', '<cbc:CustomizationID>urn:peppol:pint:billing-1@jp-1')])
case('pint-aunz-billing', 'aligned-ibrp-001-aunz', 0, 'base', 'the PINT A-NZ billing customization', [])
case('pint-aunz-billing', 'aligned-ibrp-002', 1, 'other-profile', 'business process urn:peppol:bis:ordering', [('<cbc:ProfileID>urn:peppol:bis:billing', '<cbc:ProfileID>urn:peppol:bis:ordering')])
case('pint-aunz-billing', 'aligned-ibrp-002', 0, 'base', 'business process urn:peppol:bis:billing', [])
case('pint-aunz-selfbilling', 'aligned-ibrp-001-aunz', 1, 'other-customization', 'a self-billed invoice with another customization', [SB, ('selfbilling-1@aunz-1</cbc:CustomizationID>', 'selfbilling-1@sg-1</cbc:CustomizationID>')])
case('pint-aunz-selfbilling', 'aligned-ibrp-001-aunz', 0, 'selfbilling', 'a self-billed invoice', [SB])
case('pint-aunz-selfbilling', 'aligned-ibrp-002', 1, 'billing-profile', 'a self-billed invoice with business process billing', [SB, ('<cbc:ProfileID>urn:peppol:bis:selfbilling', '<cbc:ProfileID>urn:peppol:bis:billing')])
case('pint-aunz-selfbilling', 'aligned-ibrp-002', 0, 'selfbilling', 'a self-billed invoice', [SB])
case('pint-aunz-selfbilling', 'ibr-cl-01-aunz-sb', 1, 'type-380', 'a self-billed invoice with type 380', [SB, ('<cbc:InvoiceTypeCode>389', '<cbc:InvoiceTypeCode>380')])
case('pint-aunz-selfbilling', 'ibr-cl-01-aunz-sb', 0, 'type-389', 'a self-billed invoice (389)', [SB])
case('pint-aunz-selfbilling', 'ibr-cl-01-aunz-sb', 1, 'cn-type-381', 'a self-billed credit note with type 381', [CN, SB, ('<cbc:CreditNoteTypeCode>261', '<cbc:CreditNoteTypeCode>381')])
case('pint-aunz-selfbilling', 'ibr-cl-01-aunz-sb', 0, 'cn-type-261', 'a self-billed credit note (261)', [CN, SB])


def whole(doc, cat, rate):
    """Every tax category of DOC becomes CAT (rate RATE, '' for none), tax 0."""
    p = '' if rate == '' else '\n        <cbc:Percent>%s</cbc:Percent>' % rate
    doc = doc.replace('<cbc:ID>S</cbc:ID>\n        <cbc:Percent>15</cbc:Percent>', '<cbc:ID>%s</cbc:ID>%s' % (cat, p))
    for a, b in (('106.35', '0.00'), ('815.35', '709.00')):
        doc = doc.replace('>%s<' % a, '>%s<' % b)
    return doc


def build(edits):
    doc = BASE
    for e in edits:
        if e == CN:
            for a, b in (('<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"', '<CreditNote xmlns="urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2"'),
                         ('</Invoice>', '</CreditNote>'), ('<cbc:InvoiceTypeCode>380</cbc:InvoiceTypeCode>', '<cbc:CreditNoteTypeCode>381</cbc:CreditNoteTypeCode>'),
                         ('InvoiceLine>', 'CreditNoteLine>'), ('InvoicedQuantity', 'CreditedQuantity')):
                doc = doc.replace(a, b)
            continue
        if e == SB:
            doc = doc.replace('urn:peppol:pint:billing-1@aunz-1', 'urn:peppol:pint:selfbilling-1@aunz-1')
            doc = doc.replace('urn:peppol:bis:billing', 'urn:peppol:bis:selfbilling')
            doc = doc.replace('<cbc:InvoiceTypeCode>380', '<cbc:InvoiceTypeCode>389').replace('<cbc:CreditNoteTypeCode>381', '<cbc:CreditNoteTypeCode>261')
            continue
        if e == AU:
            for a, b in (('<cbc:IdentificationCode>NZ</cbc:IdentificationCode>', '<cbc:IdentificationCode>AU</cbc:IdentificationCode>'),
                         (SUP_LEGAL, '<cbc:CompanyID schemeID="0151">51824753556</cbc:CompanyID>'),
                         (CUS_LEGAL, '<cbc:CompanyID schemeID="0151">91888222000</cbc:CompanyID>'),
                         (SUP_GST, '<cbc:CompanyID>51824753556</cbc:CompanyID>'),
                         (CUS_GST, '<cbc:CompanyID>91888222000</cbc:CompanyID>')):
                doc = doc.replace(a, b)
            continue
        if isinstance(e, str) and e.startswith('ALL:'):
            _, cat, rate = e.split(':')
            doc = whole(doc, cat, rate)
            continue
        old, new = e
        if old == 'INVOICELINES':
            i = doc.index('  <cac:InvoiceLine>')
            doc = doc[:i] + '</Invoice>\n'
            continue
        if old == 'ALLRATE1':   # the first line's category in a whole-category document
            i = doc.index('<cac:ClassifiedTaxCategory>')
            j = doc.index('</cac:ClassifiedTaxCategory>', i)
            if new == 'S-LINE':
                rep = '<cac:ClassifiedTaxCategory><cbc:ID>S</cbc:ID><cbc:Percent>15</cbc:Percent><cac:TaxScheme><cbc:ID>GST</cbc:ID></cac:TaxScheme>'
            else:
                cat = doc[doc.index('<cbc:ID>', i) + 8:doc.index('</cbc:ID>', i)]
                rep = '<cac:ClassifiedTaxCategory><cbc:ID>%s</cbc:ID><cbc:Percent>%s</cbc:Percent><cac:TaxScheme><cbc:ID>GST</cbc:ID></cac:TaxScheme>' % (cat, new)
            doc = doc[:i] + rep + doc[j:]
            continue
        if old == 'ALLCAT-LINES':   # lines in another category, breakdown unchanged (S)
            cat, rate = new.split(':')
            p = '' if rate == '' else '<cbc:Percent>%s</cbc:Percent>' % rate
            head, tail = doc.split('<cac:InvoiceLine>', 1)
            tail = tail.replace('<cbc:ID>S</cbc:ID>\n        <cbc:Percent>15</cbc:Percent>', '<cbc:ID>%s</cbc:ID>%s' % (cat, p))
            doc = head + '<cac:InvoiceLine>' + tail
            continue
        if old == 'SUBCAT':
            i = doc.index('<cac:TaxSubtotal>')
            k = doc.index('<cac:TaxScheme>', i)
            doc = doc[:k] + new + doc[k:]
            continue
        n = doc.count(old)
        if n != 1:
            raise SystemExit('edit matches %d times: %r' % (n, old[:100]))
        doc = doc.replace(old, new)
    return doc


def main():
    total = 0
    for set_, cases in CASES.items():
        for rule, fires, name, what, edits in cases:
            doc = build(edits)
            head, rest = doc.split('\n', 1)
            rest = rest.split('-->', 1)[1].lstrip('\n')
            kind = 'fires' if fires else 'passes'
            comment = '<!-- %s %s: %s (generated from pint-aunz/base.xml by gen_cases.py) -->' % (
                rule, 'fires' if fires else 'does not fire', what.replace('--', '-'))
            d = os.path.join(ROOT, set_, rule)
            os.makedirs(d, exist_ok=True)
            with open(os.path.join(d, '%s-%s.xml' % (kind, name)), 'w', encoding='utf-8') as f:
                f.write(head + '\n' + comment + '\n' + rest)
            total += 1
    print('%d cases' % total)


if __name__ == '__main__':
    main()
