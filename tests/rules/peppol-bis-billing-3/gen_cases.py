#!/usr/bin/env python3
"""Generate the per-rule cases of peppol-bis-billing-3.sch from base.xml.

Each case is base.xml with a few exact text replacements (each must match
exactly once), written to <RULE-ID>/<fires|passes>-<name>.xml with a comment
saying what it shows. To add a case: add a line to CASES and run
  python3 tests/rules/peppol-bis-billing-3/gen_cases.py
The files are committed; tc_rules.c runs them (no Python needed at test time).
"""
import os, sys

HERE = os.path.dirname(os.path.abspath(__file__))
BASE = open(os.path.join(HERE, 'base.xml'), encoding='utf-8').read()

# Frequently replaced fragments of base.xml
SUP_CC = '<cbc:IdentificationCode>GB</cbc:IdentificationCode>'
CUS_CC = '<cbc:IdentificationCode>BE</cbc:IdentificationCode>'
SUP_VAT = '<cbc:CompanyID>GB123456789</cbc:CompanyID>'
SUP_LEGAL = '<cbc:CompanyID>SELLER-LEGAL-1</cbc:CompanyID>'
CUS_LEGAL = '<cbc:RegistrationName>Buyer NV</cbc:RegistrationName>'
SUP_EP = '<cbc:EndpointID schemeID="0088">7300010000001</cbc:EndpointID>'
CUS_EP = '<cbc:EndpointID schemeID="0208">0403170701</cbc:EndpointID>'
SUP_PID = '<cbc:ID schemeID="0088">7300010000001</cbc:ID>'
PM = '<cbc:PaymentMeansCode>30</cbc:PaymentMeansCode>'
PAYEE = '<cbc:ID>GB82WEST12345698765432</cbc:ID>'
PAYID = '<cbc:PaymentID>INV-1001</cbc:PaymentID>'
DOC_AC = '<cbc:MultiplierFactorNumeric>5</cbc:MultiplierFactorNumeric>'
L2_AC = '<cbc:Amount currencyID="EUR">20.00</cbc:Amount>'
NOTE = '<cbc:Note>Office chairs</cbc:Note>'
ID = '<cbc:ID>INV-1001</cbc:ID>'
TAXCAT = '<cac:TaxCategory>\n        <cbc:ID>S</cbc:ID>'   # the tax subtotal's category
TAXSCHEME_END = '''          <cbc:ID>VAT</cbc:ID>
        </cac:TaxScheme>
      </cac:PartyTaxScheme>'''
ADR = '<cac:InvoicePeriod>\n    <cbc:StartDate>2026-11-01</cbc:StartDate>'


def sup_tax(cid):
    """Add a seller tax registration (scheme TAX) with CompanyID CID."""
    return (TAXSCHEME_END, TAXSCHEME_END + '\n      <cac:PartyTaxScheme><cbc:CompanyID>%s</cbc:CompanyID>'
            '<cac:TaxScheme><cbc:ID>TAX</cbc:ID></cac:TaxScheme></cac:PartyTaxScheme>' % cid)


def adr(desc, id_, extra=''):
    """Add a document-level AdditionalDocumentReference before InvoicePeriod."""
    return (ADR, '<cac:AdditionalDocumentReference><cbc:ID>%s</cbc:ID><cbc:DocumentDescription>%s'
            '</cbc:DocumentDescription>%s</cac:AdditionalDocumentReference>\n  ' % (id_, desc, extra) + ADR)


def country(sup=None, cus=None, vat=None):
    e = []
    if sup:
        e.append((SUP_CC, '<cbc:IdentificationCode>%s</cbc:IdentificationCode>' % sup))
    if cus:
        e.append((CUS_CC, '<cbc:IdentificationCode>%s</cbc:IdentificationCode>' % cus))
    if vat is not None:
        e.append((SUP_VAT, '<cbc:CompanyID>%s</cbc:CompanyID>' % vat))
    return e


def pm(code, payee=None, payid=None, extra=''):
    e = [(PM, '<cbc:PaymentMeansCode>%s</cbc:PaymentMeansCode>' % code)]
    if payee is not None:
        e.append((PAYEE, '<cbc:ID>%s</cbc:ID>%s' % (payee, extra)))
    if payid is not None:
        e.append((PAYID, '<cbc:PaymentID>%s</cbc:PaymentID>' % payid))
    return e


CN = 'CREDITNOTE'   # first edit: turn the invoice into a credit note

DK = country('DK', 'DK') + [(SUP_LEGAL, '<cbc:CompanyID schemeID="0184">DK13585628</cbc:CompanyID>'),
                            (CUS_EP, '<cbc:EndpointID schemeID="0184">DK10403782</cbc:EndpointID>')]
GR_OK_ID = '094014201|20/11/2026|0|1.1|A|1'
GR = country('GR', None, 'EL094014201') + [
    (SUP_EP, '<cbc:EndpointID schemeID="9933">094014201</cbc:EndpointID>'),
    (ID, '<cbc:ID>%s</cbc:ID>' % GR_OK_ID)]
GR_DOC = GR + [adr('##M.AR.K##', '400001', '')]
IS = country('IS', 'IS') + [(SUP_LEGAL, '<cbc:CompanyID schemeID="0196">5101010101</cbc:CompanyID>')]
NL = country('NL')
SE = country('SE', None, 'SE556012579001')

# (rule, fires?, name, what it shows, edits)
CASES = [
    ('PEPPOL-EN16931-R008', 1, 'empty-note', 'an empty cbc:Note', [(NOTE, '<cbc:Note> </cbc:Note>')]),
    ('PEPPOL-EN16931-R008', 0, 'base', 'no empty element', []),
    ('PEPPOL-EN16931-R080', 1, 'two-projects', 'a credit note with two project references',
     [CN, (ADR, '<cac:AdditionalDocumentReference><cbc:ID>P1</cbc:ID><cbc:DocumentTypeCode>50</cbc:DocumentTypeCode></cac:AdditionalDocumentReference>'
           '<cac:AdditionalDocumentReference><cbc:ID>P2</cbc:ID><cbc:DocumentTypeCode>50</cbc:DocumentTypeCode></cac:AdditionalDocumentReference>' + ADR)]),
    ('PEPPOL-EN16931-R080', 0, 'one-project', 'a credit note with one project reference',
     [CN, (ADR, '<cac:AdditionalDocumentReference><cbc:ID>P1</cbc:ID><cbc:DocumentTypeCode>50</cbc:DocumentTypeCode></cac:AdditionalDocumentReference>' + ADR)]),
    ('PEPPOL-EN16931-R001', 1, 'no-profile', 'no cbc:ProfileID',
     [('<cbc:ProfileID>urn:fdc:peppol.eu:2017:poacc:billing:01:1.0</cbc:ProfileID>', '')]),
    ('PEPPOL-EN16931-R001', 0, 'base', 'a ProfileID', []),
    ('PEPPOL-EN16931-R007', 1, 'bad-profile', 'a ProfileID not of the billing form',
     [('poacc:billing:01:1.0</cbc:ProfileID>', 'poacc:billing:1.0</cbc:ProfileID>')]),
    ('PEPPOL-EN16931-R007', 0, 'profile-05', 'process 05',
     [('poacc:billing:01:1.0</cbc:ProfileID>', 'poacc:billing:05:1.0</cbc:ProfileID>')]),
    ('PEPPOL-EN16931-R002', 1, 'two-notes', 'two notes', [(NOTE, NOTE + '<cbc:Note>More</cbc:Note>')]),
    ('PEPPOL-EN16931-R002', 0, 'one-note', 'one note', []),
    ('PEPPOL-EN16931-R003', 1, 'no-reference', 'neither buyer nor order reference',
     [('<cbc:BuyerReference>REF-77</cbc:BuyerReference>', '')]),
    ('PEPPOL-EN16931-R003', 0, 'order-reference', 'an order reference instead of the buyer reference',
     [('<cbc:BuyerReference>REF-77</cbc:BuyerReference>', ''),
      (ADR, '<cac:OrderReference><cbc:ID>PO-1</cbc:ID></cac:OrderReference>\n  ' + ADR)]),
    ('PEPPOL-EN16931-R004', 1, 'en16931-only', 'the plain EN 16931 customization chosen by --profile',
     [('#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0</cbc:CustomizationID>',
       '#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0#conformant#urn:x</cbc:CustomizationID>'),
      ('urn:cen.eu:en16931:2017#compliant#urn:fdc', 'urn:cen.eu:en16931:2017#conformant#urn:fdc')]),
    ('PEPPOL-EN16931-R004', 0, 'base', 'the Peppol customization', []),
    ('PEPPOL-EN16931-R053', 1, 'two-tax-totals', 'two tax totals with subtotals',
     [('</cac:TaxTotal>', '</cac:TaxTotal><cac:TaxTotal><cbc:TaxAmount currencyID="EUR">0</cbc:TaxAmount><cac:TaxSubtotal/></cac:TaxTotal>')]),
    ('PEPPOL-EN16931-R053', 0, 'base', 'one tax total', []),
    ('PEPPOL-EN16931-R054', 1, 'no-accounting-total', 'a tax currency but no tax total in it',
     [('<cbc:DocumentCurrencyCode>EUR</cbc:DocumentCurrencyCode>', '<cbc:DocumentCurrencyCode>EUR</cbc:DocumentCurrencyCode><cbc:TaxCurrencyCode>SEK</cbc:TaxCurrencyCode>')]),
    ('PEPPOL-EN16931-R054', 0, 'accounting-total', 'a tax currency and its tax total',
     [('<cbc:DocumentCurrencyCode>EUR</cbc:DocumentCurrencyCode>', '<cbc:DocumentCurrencyCode>EUR</cbc:DocumentCurrencyCode><cbc:TaxCurrencyCode>SEK</cbc:TaxCurrencyCode>'),
      ('<cac:LegalMonetaryTotal>', '<cac:TaxTotal><cbc:TaxAmount currencyID="SEK">520.00</cbc:TaxAmount></cac:TaxTotal>\n  <cac:LegalMonetaryTotal>')]),
    ('PEPPOL-EN16931-R055', 1, 'opposite-signs', 'the accounting-currency VAT total is negative',
     [('<cbc:DocumentCurrencyCode>EUR</cbc:DocumentCurrencyCode>', '<cbc:DocumentCurrencyCode>EUR</cbc:DocumentCurrencyCode><cbc:TaxCurrencyCode>SEK</cbc:TaxCurrencyCode>'),
      ('<cac:LegalMonetaryTotal>', '<cac:TaxTotal><cbc:TaxAmount currencyID="SEK">-520.00</cbc:TaxAmount></cac:TaxTotal>\n  <cac:LegalMonetaryTotal>')]),
    ('PEPPOL-EN16931-R055', 0, 'same-signs', 'both VAT totals positive',
     [('<cbc:DocumentCurrencyCode>EUR</cbc:DocumentCurrencyCode>', '<cbc:DocumentCurrencyCode>EUR</cbc:DocumentCurrencyCode><cbc:TaxCurrencyCode>SEK</cbc:TaxCurrencyCode>'),
      ('<cac:LegalMonetaryTotal>', '<cac:TaxTotal><cbc:TaxAmount currencyID="SEK">520.00</cbc:TaxAmount></cac:TaxTotal>\n  <cac:LegalMonetaryTotal>')]),
    ('PEPPOL-EN16931-R005', 1, 'same-currency', 'tax currency equal to the document currency',
     [('<cbc:DocumentCurrencyCode>EUR</cbc:DocumentCurrencyCode>', '<cbc:DocumentCurrencyCode>EUR</cbc:DocumentCurrencyCode><cbc:TaxCurrencyCode>EUR</cbc:TaxCurrencyCode>')]),
    ('PEPPOL-EN16931-R005', 0, 'other-currency', 'tax currency SEK',
     [('<cbc:DocumentCurrencyCode>EUR</cbc:DocumentCurrencyCode>', '<cbc:DocumentCurrencyCode>EUR</cbc:DocumentCurrencyCode><cbc:TaxCurrencyCode>SEK</cbc:TaxCurrencyCode>')]),
    ('PEPPOL-EN16931-R010', 1, 'no-buyer-endpoint', 'no buyer EndpointID', [(CUS_EP, '')]),
    ('PEPPOL-EN16931-R010', 0, 'base', 'a buyer EndpointID', []),
    ('PEPPOL-EN16931-R020', 1, 'no-seller-endpoint', 'no seller EndpointID', [(SUP_EP, '')]),
    ('PEPPOL-EN16931-R020', 0, 'base', 'a seller EndpointID', []),
    ('PEPPOL-EN16931-R041', 1, 'percent-no-base', 'percentage without base amount',
     [('<cbc:BaseAmount currencyID="EUR">200.00</cbc:BaseAmount>', '')]),
    ('PEPPOL-EN16931-R041', 0, 'both', 'percentage and base amount', []),
    ('PEPPOL-EN16931-R042', 1, 'base-no-percent', 'base amount without percentage', [(DOC_AC, '')]),
    ('PEPPOL-EN16931-R042', 0, 'both', 'percentage and base amount', []),
    ('PEPPOL-EN16931-R040', 1, 'wrong-amount', '5 % of 200.00 is not 10.03',
     [('<cbc:Amount currencyID="EUR">10.00</cbc:Amount>', '<cbc:Amount currencyID="EUR">10.03</cbc:Amount>')]),
    ('PEPPOL-EN16931-R040', 0, 'within-slack', '10.02 is within 0.02 of 5 % of 200.00',
     [('<cbc:Amount currencyID="EUR">10.00</cbc:Amount>', '<cbc:Amount currencyID="EUR">10.02</cbc:Amount>')]),
    ('PEPPOL-EN16931-R043', 1, 'yes', "charge indicator 'yes'", [(L2_AC, L2_AC), ('<cbc:ChargeIndicator>false</cbc:ChargeIndicator>\n      <cbc:AllowanceChargeReasonCode>95</cbc:AllowanceChargeReasonCode>\n      <cbc:Amount currencyID="EUR">20.00', '<cbc:ChargeIndicator>yes</cbc:ChargeIndicator>\n      <cbc:AllowanceChargeReasonCode>95</cbc:AllowanceChargeReasonCode>\n      <cbc:Amount currencyID="EUR">20.00')]),
    ('PEPPOL-EN16931-R043', 0, 'false', "charge indicator 'false'", []),
    ('PEPPOL-EN16931-R061', 1, 'no-mandate', 'direct debit 59 without mandate', pm('59')),
    ('PEPPOL-EN16931-R061', 0, 'mandate', 'direct debit 59 with mandate',
     [(PM, '<cbc:PaymentMeansCode>59</cbc:PaymentMeansCode>'),
      ('</cac:PayeeFinancialAccount>', '</cac:PayeeFinancialAccount><cac:PaymentMandate><cbc:ID>M-1</cbc:ID></cac:PaymentMandate>')]),
    ('PEPPOL-EN16931-R051', 1, 'usd-line', 'a line amount in USD',
     [('<cbc:PriceAmount currencyID="EUR">30.00</cbc:PriceAmount>', '<cbc:PriceAmount currencyID="USD">30.00</cbc:PriceAmount>')]),
    ('PEPPOL-EN16931-R051', 0, 'base', 'every amount in EUR', []),
    ('PEPPOL-EN16931-R110', 1, 'starts-early', 'line period starts before the invoice period',
     [('<cbc:StartDate>2026-11-01</cbc:StartDate>\n      <cbc:EndDate>2026-11-15', '<cbc:StartDate>2026-10-31</cbc:StartDate>\n      <cbc:EndDate>2026-11-15')]),
    ('PEPPOL-EN16931-R110', 0, 'same-start', 'line period starts with the invoice period', []),
    ('PEPPOL-EN16931-R111', 1, 'ends-late', 'line period ends after the invoice period',
     [('<cbc:EndDate>2026-11-15</cbc:EndDate>', '<cbc:EndDate>2026-12-01</cbc:EndDate>')]),
    ('PEPPOL-EN16931-R111', 0, 'inside', 'line period inside the invoice period', []),
    ('PEPPOL-EN16931-R120', 1, 'net-off', 'line 2: 4 x 30.00 - 20.00 is not 100.03',
     [('<cbc:LineExtensionAmount currencyID="EUR">100.00</cbc:LineExtensionAmount>\n    <cac:AllowanceCharge>', '<cbc:LineExtensionAmount currencyID="EUR">100.03</cbc:LineExtensionAmount>\n    <cac:AllowanceCharge>')]),
    ('PEPPOL-EN16931-R120', 0, 'base-quantity', 'price 90.00 per 3 units: 4 x 30.00 - 20.00 = 100.00',
     [('<cbc:PriceAmount currencyID="EUR">30.00</cbc:PriceAmount>', '<cbc:PriceAmount currencyID="EUR">90.00</cbc:PriceAmount><cbc:BaseQuantity unitCode="C62">3</cbc:BaseQuantity>')]),
    ('PEPPOL-EN16931-R121', 1, 'zero-base', 'price base quantity 0',
     [('<cbc:BaseQuantity unitCode="C62">1</cbc:BaseQuantity>', '<cbc:BaseQuantity unitCode="C62">0</cbc:BaseQuantity>')]),
    ('PEPPOL-EN16931-R121', 0, 'one', 'price base quantity 1', []),
    ('PEPPOL-EN16931-R100', 1, 'two-objects', 'two invoiced objects on a line',
     [('<cbc:ID>2</cbc:ID>', '<cbc:ID>2</cbc:ID><cac:DocumentReference><cbc:ID>A</cbc:ID><cbc:DocumentTypeCode>130</cbc:DocumentTypeCode></cac:DocumentReference><cac:DocumentReference><cbc:ID>B</cbc:ID><cbc:DocumentTypeCode>130</cbc:DocumentTypeCode></cac:DocumentReference>')]),
    ('PEPPOL-EN16931-R100', 0, 'one-object', 'one invoiced object',
     [('<cbc:ID>2</cbc:ID>', '<cbc:ID>2</cbc:ID><cac:DocumentReference><cbc:ID>A</cbc:ID><cbc:DocumentTypeCode>130</cbc:DocumentTypeCode></cac:DocumentReference>')]),
    ('PEPPOL-EN16931-R101', 1, 'type-50', 'a line document reference of type 50',
     [('<cbc:ID>2</cbc:ID>', '<cbc:ID>2</cbc:ID><cac:DocumentReference><cbc:ID>A</cbc:ID><cbc:DocumentTypeCode>50</cbc:DocumentTypeCode></cac:DocumentReference>')]),
    ('PEPPOL-EN16931-R101', 0, 'type-130', 'a line document reference of type 130',
     [('<cbc:ID>2</cbc:ID>', '<cbc:ID>2</cbc:ID><cac:DocumentReference><cbc:ID>A</cbc:ID><cbc:DocumentTypeCode>130</cbc:DocumentTypeCode></cac:DocumentReference>')]),
    ('PEPPOL-EN16931-R044', 1, 'price-charge', 'a charge on price level',
     [('<cbc:ChargeIndicator>false</cbc:ChargeIndicator>\n        <cbc:Amount currencyID="EUR">5.00', '<cbc:ChargeIndicator>true</cbc:ChargeIndicator>\n        <cbc:Amount currencyID="EUR">5.00')]),
    ('PEPPOL-EN16931-R044', 0, 'price-allowance', 'a price discount', []),
    ('PEPPOL-EN16931-R046', 1, 'gross-off', 'net 50.00 is not gross 56.00 - 5.00',
     [('<cbc:BaseAmount currencyID="EUR">55.00</cbc:BaseAmount>', '<cbc:BaseAmount currencyID="EUR">56.00</cbc:BaseAmount>')]),
    ('PEPPOL-EN16931-R046', 0, 'gross-ok', 'net 50.00 = gross 55.00 - 5.00', []),
    ('PEPPOL-EN16931-R130', 1, 'unit-differs', 'price base quantity in KGM, quantity in C62',
     [('<cbc:BaseQuantity unitCode="C62">1</cbc:BaseQuantity>', '<cbc:BaseQuantity unitCode="KGM">1</cbc:BaseQuantity>')]),
    ('PEPPOL-EN16931-R130', 0, 'same-unit', 'both in C62', []),
    ('PEPPOL-COMMON-R040', 1, 'bad-gln', 'GLN 7300010000002 (wrong check digit)',
     [(SUP_EP, '<cbc:EndpointID schemeID="0088">7300010000002</cbc:EndpointID>')]),
    ('PEPPOL-COMMON-R040', 0, 'gln', 'GLN 7300010000001', []),
    ('PEPPOL-COMMON-R041', 1, 'bad-orgnr', 'Norwegian organisation number 974760674',
     [(CUS_EP, '<cbc:EndpointID schemeID="0192">974760674</cbc:EndpointID>')]),
    ('PEPPOL-COMMON-R041', 0, 'orgnr', 'Norwegian organisation number 974760673',
     [(CUS_EP, '<cbc:EndpointID schemeID="0192">974760673</cbc:EndpointID>')]),
    ('PEPPOL-COMMON-R042', 1, 'nine-digits', 'CVR of nine digits (neither DK and eight digits nor eight digits)',
     [(CUS_EP, '<cbc:EndpointID schemeID="0184">135856281</cbc:EndpointID>')]),
    ('PEPPOL-COMMON-R042', 0, 'dk-prefix', 'CVR DK13585628',
     [(CUS_EP, '<cbc:EndpointID schemeID="0184">DK13585628</cbc:EndpointID>')]),
    ('PEPPOL-COMMON-R043', 1, 'bad-check', 'Belgian enterprise number 0403170702',
     [(CUS_EP, '<cbc:EndpointID schemeID="0208">0403170702</cbc:EndpointID>')]),
    ('PEPPOL-COMMON-R043', 0, 'good-check', 'Belgian enterprise number 0403170701', []),
    ('PEPPOL-COMMON-R044', 1, 'seven', 'IPA code of 7 characters',
     [(CUS_EP, '<cbc:EndpointID schemeID="0201">UFABC12</cbc:EndpointID>')]),
    ('PEPPOL-COMMON-R044', 0, 'six', 'IPA code UFABC1',
     [(CUS_EP, '<cbc:EndpointID schemeID="0201">UFABC1</cbc:EndpointID>')]),
    ('PEPPOL-COMMON-R045', 1, 'short', 'codice fiscale of 12 characters',
     [(CUS_EP, '<cbc:EndpointID schemeID="0210">RSSMRA85T10A</cbc:EndpointID>')]),
    ('PEPPOL-COMMON-R045', 0, 'personal', 'codice fiscale RSSMRA85T10A562S',
     [(CUS_EP, '<cbc:EndpointID schemeID="0210">RSSMRA85T10A562S</cbc:EndpointID>')]),
    ('PEPPOL-COMMON-R046', 1, 'letters', 'an 11-character code with letters (scheme 9907)',
     [(CUS_EP, '<cbc:EndpointID schemeID="9907">0074311015A</cbc:EndpointID>')]),
    ('PEPPOL-COMMON-R046', 0, 'digits', 'an 11-digit code (scheme 9907)',
     [(CUS_EP, '<cbc:EndpointID schemeID="9907">00743110157</cbc:EndpointID>')]),
    ('PEPPOL-COMMON-R047', 1, 'bad-piva', 'IT00743110158 (wrong check digit)',
     [(CUS_EP, '<cbc:EndpointID schemeID="0211">IT00743110158</cbc:EndpointID>')]),
    ('PEPPOL-COMMON-R047', 0, 'piva', 'IT00743110157',
     [(CUS_EP, '<cbc:EndpointID schemeID="0211">IT00743110157</cbc:EndpointID>')]),
    ('PEPPOL-COMMON-R049', 1, 'bad-luhn', 'Swedish organisation number 5560125791',
     [(CUS_EP, '<cbc:EndpointID schemeID="0007">5560125791</cbc:EndpointID>')]),
    ('PEPPOL-COMMON-R049', 0, 'luhn', 'Swedish organisation number 5560125790',
     [(CUS_EP, '<cbc:EndpointID schemeID="0007">5560125790</cbc:EndpointID>')]),
    ('PEPPOL-COMMON-R050', 1, 'bad-abn', 'ABN 51824753557',
     [(CUS_EP, '<cbc:EndpointID schemeID="0151">51824753557</cbc:EndpointID>')]),
    ('PEPPOL-COMMON-R050', 0, 'abn', 'ABN 51824753556',
     [(CUS_EP, '<cbc:EndpointID schemeID="0151">51824753556</cbc:EndpointID>')]),
    # Denmark identifier formats (2026.5)
    ('PEPPOL-COMMON-R042', 0, 'eight-digits', 'CVR number of eight digits without DK (scheme 0184)',
     [(CUS_EP, '<cbc:EndpointID schemeID="0184">13585628</cbc:EndpointID>')]),
    ('PEPPOL-COMMON-R052', 1, 'nine-digits', 'P number of nine digits (scheme 0096)',
     [(CUS_EP, '<cbc:EndpointID schemeID="0096">123456789</cbc:EndpointID>')]),
    ('PEPPOL-COMMON-R052', 0, 'ten-digits', 'P number of ten digits (scheme 0096)',
     [(CUS_EP, '<cbc:EndpointID schemeID="0096">1234567890</cbc:EndpointID>')]),
    ('PEPPOL-COMMON-R053', 1, 'no-dk', 'SE number without DK (scheme 0198)',
     [(CUS_EP, '<cbc:EndpointID schemeID="0198">1234567890</cbc:EndpointID>')]),
    ('PEPPOL-COMMON-R053', 0, 'dk', 'SE number DK12345678 (scheme 0198)',
     [(CUS_EP, '<cbc:EndpointID schemeID="0198">DK12345678</cbc:EndpointID>')]),
    # Netherlands identifier formats (2026.5, warnings)
    ('PEPPOL-COMMON-R054', 1, 'seven-digits', 'KVK number of 7 digits (scheme 0106)',
     [(CUS_EP, '<cbc:EndpointID schemeID="0106">1234567</cbc:EndpointID>')]),
    ('PEPPOL-COMMON-R054', 0, 'kvk', 'KVK number 12345678 as legal registration (scheme 0106)',
     [(SUP_LEGAL, '<cbc:CompanyID schemeID="0106">12345678</cbc:CompanyID>')]),
    ('PEPPOL-COMMON-R055', 1, 'letter', 'OIN with a letter (scheme 0190)',
     [(CUS_EP, '<cbc:EndpointID schemeID="0190">0000000123456789012A</cbc:EndpointID>')]),
    ('PEPPOL-COMMON-R055', 0, 'oin', 'OIN of 20 digits (scheme 0190)',
     [(CUS_EP, '<cbc:EndpointID schemeID="0190">00000001234567890123</cbc:EndpointID>')]),
    ('PEPPOL-COMMON-R056-1', 1, 'no-b', 'Dutch VAT number without the B (scheme 9944)',
     [(CUS_EP, '<cbc:EndpointID schemeID="9944">NL12345678901</cbc:EndpointID>')]),
    ('PEPPOL-COMMON-R056-1', 0, 'nl-vat', 'Dutch VAT number NL123456789B01 (scheme 9944)',
     [(CUS_EP, '<cbc:EndpointID schemeID="9944">NL123456789B01</cbc:EndpointID>')]),
    ('PEPPOL-COMMON-R056-2', 1, 'short', 'seller VAT identifier NL12345678B01 (8 digits)', country(None, None, 'NL12345678B01')),
    ('PEPPOL-COMMON-R056-2', 0, 'nl-vat', 'seller VAT identifier NL123456789B01', country(None, None, 'NL123456789B01')),
    ('PEPPOL-COMMON-R057', 1, 'eight-digits', 'establishment number of 8 digits (scheme 0217)',
     [(SUP_PID, '<cbc:ID schemeID="0217">12345678</cbc:ID>')]),
    ('PEPPOL-COMMON-R057', 0, 'twelve-digits', 'establishment number 123456789012 (scheme 0217)',
     [(SUP_PID, '<cbc:ID schemeID="0217">123456789012</cbc:ID>')]),
    # Norway
    ('NO-R-002', 1, 'no-foretaksregisteret', 'Norwegian seller without Foretaksregisteret', country('NO', None, 'NO974760673MVA')),
    ('NO-R-002', 0, 'foretaksregisteret', 'Norwegian seller with Foretaksregisteret',
     country('NO', None, 'NO974760673MVA') + [sup_tax('Foretaksregisteret')]),
    ('NO-R-001', 1, 'bad-vat', 'NO VAT number with a bad organisation number', country('NO', None, 'NO974760674MVA')),
    ('NO-R-001', 0, 'vat', 'NO974760673MVA', country('NO', None, 'NO974760673MVA')),
    # Denmark
    ('DK-R-002', 1, 'no-cvr', 'Danish seller without legal entity id', DK[:2] + [(SUP_LEGAL, '')]),
    ('DK-R-002', 0, 'cvr', 'Danish seller with CVR', DK),
    ('DK-R-014', 1, 'no-scheme', 'Danish seller legal id without scheme 0184', DK[:2] + [(SUP_LEGAL, '<cbc:CompanyID>DK13585628</cbc:CompanyID>')]),
    ('DK-R-014', 0, 'scheme', 'scheme 0184', DK),
    ('DK-R-016', 1, 'negative', 'Danish credit note with negative amount due',
     [CN] + DK + [('<cbc:PayableAmount currencyID="EUR">237.50', '<cbc:PayableAmount currencyID="EUR">-237.50')]),
    ('DK-R-016', 0, 'positive', 'Danish credit note with positive amount due', [CN] + DK),
    ('DK-R-013', 1, 'no-scheme', 'Danish party identifier without schemeID', DK + [(SUP_PID, '<cbc:ID>7300010000001</cbc:ID>')]),
    ('DK-R-013', 0, 'scheme', 'party identifier with schemeID', DK),
    ('DK-R-005', 1, 'code-30', 'Danish payment means 30', DK),
    ('DK-R-005', 0, 'code-58', 'Danish payment means 58', DK + pm('58')),
    ('DK-R-006', 1, 'no-branch', 'payment means 31 without registration number', DK + pm('31')),
    ('DK-R-006', 0, 'branch', 'payment means 31 with registration number',
     DK + pm('31', '1234567890', None, '<cac:FinancialInstitutionBranch><cbc:ID>1234</cbc:ID></cac:FinancialInstitutionBranch>')),
    ('DK-R-007', 1, 'no-mandate', 'payment means 49 without mandate', DK + pm('49')),
    ('DK-R-007', 0, 'mandate', 'payment means 49 with mandate and payer account',
     DK + pm('49') + [('</cac:PayeeFinancialAccount>', '</cac:PayeeFinancialAccount><cac:PaymentMandate><cbc:ID>M1</cbc:ID><cac:PayerFinancialAccount><cbc:ID>DK111</cbc:ID></cac:PayerFinancialAccount></cac:PaymentMandate>')]),
    ('DK-R-008', 1, 'bad-prefix', 'giro payment id 02#', DK + pm('50', '1234567', '02#1234')),
    ('DK-R-008', 0, 'giro', 'giro payment id 01#', DK + pm('50', '1234567', '01#1234')),
    ('DK-R-009', 1, 'short', 'giro 04# with a short instruction id', DK + pm('50', '1234567', '04#1234')),
    ('DK-R-009', 0, 'full', 'giro 04# with 16 digits', DK + pm('50', '1234567', '04#1234567890123456')),
    ('DK-R-010', 1, 'short-creditor', 'FIK with a 7-character creditor number', DK + pm('93', '1234567', '73#1')),
    ('DK-R-010', 0, 'fik', 'FIK 73# with an 8-character creditor number', DK + pm('93', '12345678', '73#1')),
    ('DK-R-011', 1, 'short', 'FIK 71# with a short instruction id', DK + pm('93', '12345678', '71#123')),
    ('DK-R-011', 0, 'full', 'FIK 71# with 15 digits', DK + pm('93', '12345678', '71#123456789012345')),
    ('DK-R-003', 1, 'old-unspsc', 'UNSPSC (TST) version 18',
     DK + [('<cbc:Name>Chair</cbc:Name>', '<cbc:Name>Chair</cbc:Name><cac:CommodityClassification><cbc:ItemClassificationCode listID="TST" listVersionID="18.0">56101504</cbc:ItemClassificationCode></cac:CommodityClassification>')]),
    ('DK-R-003', 0, 'unspsc-19', 'UNSPSC (TST) version 19.0501',
     DK + [('<cbc:Name>Chair</cbc:Name>', '<cbc:Name>Chair</cbc:Name><cac:CommodityClassification><cbc:ItemClassificationCode listID="TST" listVersionID="19.0501">56101504</cbc:ItemClassificationCode></cac:CommodityClassification>')]),
    ('DK-R-008', 0, 'giro-8', 'giro account of 8 digits (2026.5 allows 7 or 8)', DK + pm('50', '12345678', '01#1234')),
    ('DK-R-008', 1, 'giro-letters', 'giro account with letters', DK + pm('50', '123456A', '01#1234')),
    ('DK-R-003', 0, 'unspsc-26', 'UNSPSC (TST) version 26.08.01 (2026.5)',
     DK + [('<cbc:Name>Chair</cbc:Name>', '<cbc:Name>Chair</cbc:Name><cac:CommodityClassification><cbc:ItemClassificationCode listID="TST" listVersionID="26.08.01">56101504</cbc:ItemClassificationCode></cac:CommodityClassification>')]),
    ('DK-R-004', 0, 'zzz-hash', 'Danish ZZZ charge with a reason holding # inside (2026.5)',
     DK + [('<cbc:AllowanceChargeReasonCode>95</cbc:AllowanceChargeReasonCode>\n      <cbc:Amount currencyID="EUR">20.00', '<cbc:AllowanceChargeReasonCode>ZZZ</cbc:AllowanceChargeReasonCode><cbc:AllowanceChargeReason>Afgift#0123</cbc:AllowanceChargeReason>\n      <cbc:Amount currencyID="EUR">20.00')]),
    ('DK-R-004', 1, 'zzz-hash-last', 'Danish ZZZ charge with a reason ending in #',
     DK + [('<cbc:AllowanceChargeReasonCode>95</cbc:AllowanceChargeReasonCode>\n      <cbc:Amount currencyID="EUR">20.00', '<cbc:AllowanceChargeReasonCode>ZZZ</cbc:AllowanceChargeReasonCode><cbc:AllowanceChargeReason>Afgift#</cbc:AllowanceChargeReason>\n      <cbc:Amount currencyID="EUR">20.00')]),
    ('DK-R-017', 1, 'buyer-no-scheme', 'Danish buyer legal id without scheme 0184',
     DK + [(CUS_LEGAL, CUS_LEGAL + '<cbc:CompanyID>DK10403782</cbc:CompanyID>')]),
    ('DK-R-017', 0, 'buyer-scheme', 'Danish buyer legal id with scheme 0184',
     DK + [(CUS_LEGAL, CUS_LEGAL + '<cbc:CompanyID schemeID="0184">DK10403782</cbc:CompanyID>')]),
    ('DK-R-004', 1, 'zzz-text', 'Danish ZZZ charge without 4-digit tax category',
     DK + [('<cbc:AllowanceChargeReasonCode>95</cbc:AllowanceChargeReasonCode>\n      <cbc:Amount currencyID="EUR">20.00', '<cbc:AllowanceChargeReasonCode>ZZZ</cbc:AllowanceChargeReasonCode><cbc:AllowanceChargeReason>Afgift</cbc:AllowanceChargeReason>\n      <cbc:Amount currencyID="EUR">20.00')]),
    ('DK-R-004', 0, 'zzz-code', 'Danish ZZZ charge with tax category 0123',
     DK + [('<cbc:AllowanceChargeReasonCode>95</cbc:AllowanceChargeReasonCode>\n      <cbc:Amount currencyID="EUR">20.00', '<cbc:AllowanceChargeReasonCode>ZZZ</cbc:AllowanceChargeReasonCode><cbc:AllowanceChargeReason>0123</cbc:AllowanceChargeReason>\n      <cbc:Amount currencyID="EUR">20.00')]),
    # Italy
    ('IT-R-001', 1, 'short', 'Italian seller tax id of 10 characters',
     country('IT', None, 'IT00743110157') + [sup_tax('0074311015')]),
    ('IT-R-001', 0, 'cf', 'Italian seller tax id RSSMRA85T10A562S',
     country('IT', None, 'IT00743110157') + [sup_tax('RSSMRA85T10A562S')]),
    ('IT-R-002', 1, 'no-street', 'Italian seller without street', country('IT', None, 'IT00743110157') + [('<cbc:StreetName>Main street 1</cbc:StreetName>', '')]),
    ('IT-R-002', 0, 'street', 'Italian seller with street', country('IT', None, 'IT00743110157')),
    ('IT-R-003', 1, 'no-city', 'Italian seller without city', country('IT', None, 'IT00743110157') + [('<cbc:CityName>London</cbc:CityName>', '')]),
    ('IT-R-003', 0, 'city', 'Italian seller with city', country('IT', None, 'IT00743110157')),
    ('IT-R-004', 1, 'no-postcode', 'Italian seller without post code', country('IT', None, 'IT00743110157') + [('<cbc:PostalZone>EC1 1AA</cbc:PostalZone>', '')]),
    ('IT-R-004', 0, 'postcode', 'Italian seller with post code', country('IT', None, 'IT00743110157')),
    # Sweden
    ('SE-R-001', 1, 'short-vat', 'Swedish VAT number of 13 characters', country('SE', None, 'SE55601257900')),
    ('SE-R-001', 0, 'vat', 'SE556012579001', SE),
    ('SE-R-002', 1, 'letters', 'Swedish VAT number with letters', country('SE', None, 'SE5560125790AB')),
    ('SE-R-002', 0, 'digits', 'SE556012579001', SE),
    ('SE-R-003', 1, 'letters', 'Swedish organisation number with a letter', SE + [(SUP_LEGAL, '<cbc:CompanyID>556012579X</cbc:CompanyID>')]),
    ('SE-R-003', 0, 'digits', 'Swedish organisation number 5560125790', SE + [(SUP_LEGAL, '<cbc:CompanyID>5560125790</cbc:CompanyID>')]),
    ('SE-R-004', 1, 'nine', 'Swedish organisation number of 9 digits', SE + [(SUP_LEGAL, '<cbc:CompanyID>556012579</cbc:CompanyID>')]),
    ('SE-R-004', 0, 'ten', 'Swedish organisation number of 10 digits', SE + [(SUP_LEGAL, '<cbc:CompanyID>5560125790</cbc:CompanyID>')]),
    ('SE-R-013', 1, 'bad-luhn', 'Swedish organisation number 5560125791', SE + [(SUP_LEGAL, '<cbc:CompanyID>5560125791</cbc:CompanyID>')]),
    ('SE-R-013', 0, 'luhn', 'Swedish organisation number 5560125790', SE + [(SUP_LEGAL, '<cbc:CompanyID>5560125790</cbc:CompanyID>')]),
    ('SE-R-005', 1, 'other-text', 'Swedish seller tax registration not F-skatt', SE + [(SUP_LEGAL, '<cbc:CompanyID>5560125790</cbc:CompanyID>'), sup_tax('Registrerad')]),
    ('SE-R-005', 0, 'f-skatt', 'Godkänd för F-skatt', SE + [(SUP_LEGAL, '<cbc:CompanyID>5560125790</cbc:CompanyID>'), sup_tax('Godkänd för F-skatt')]),
    ('SE-R-006', 1, 'rate-25', 'Swedish VAT rate 20', SE + [('<cbc:Percent>25</cbc:Percent>\n        <cac:TaxScheme>\n          <cbc:ID>VAT</cbc:ID>\n        </cac:TaxScheme>\n      </cac:ClassifiedTaxCategory>\n    </cac:Item>\n    <cac:Price>\n      <cbc:PriceAmount currencyID="EUR">30.00', '<cbc:Percent>20</cbc:Percent>\n        <cac:TaxScheme>\n          <cbc:ID>VAT</cbc:ID>\n        </cac:TaxScheme>\n      </cac:ClassifiedTaxCategory>\n    </cac:Item>\n    <cac:Price>\n      <cbc:PriceAmount currencyID="EUR">30.00')]),
    ('SE-R-006', 0, 'rate-25', 'Swedish VAT rate 25', SE),
    ('SE-R-007', 1, 'letters', 'Plusgiro account with letters', SE + pm('30', '12AB', None, '<cac:FinancialInstitutionBranch><cbc:ID>SE:PLUSGIRO</cbc:ID></cac:FinancialInstitutionBranch>')),
    ('SE-R-007', 0, 'digits', 'Plusgiro account 1234', SE + pm('30', '1234', None, '<cac:FinancialInstitutionBranch><cbc:ID>SE:PLUSGIRO</cbc:ID></cac:FinancialInstitutionBranch>')),
    ('SE-R-010', 1, 'long', 'Plusgiro account of 9 digits', SE + pm('30', '123456789', None, '<cac:FinancialInstitutionBranch><cbc:ID>SE:PLUSGIRO</cbc:ID></cac:FinancialInstitutionBranch>')),
    ('SE-R-010', 0, 'eight', 'Plusgiro account of 8 digits', SE + pm('30', '12345678', None, '<cac:FinancialInstitutionBranch><cbc:ID>SE:PLUSGIRO</cbc:ID></cac:FinancialInstitutionBranch>')),
    ('SE-R-008', 1, 'letters', 'Bankgiro account with letters', SE + pm('30', '12345AB', None, '<cac:FinancialInstitutionBranch><cbc:ID>SE:BANKGIRO</cbc:ID></cac:FinancialInstitutionBranch>')),
    ('SE-R-008', 0, 'digits', 'Bankgiro account 1234567', SE + pm('30', '1234567', None, '<cac:FinancialInstitutionBranch><cbc:ID>SE:BANKGIRO</cbc:ID></cac:FinancialInstitutionBranch>')),
    ('SE-R-009', 1, 'six', 'Bankgiro account of 6 digits', SE + pm('30', '123456', None, '<cac:FinancialInstitutionBranch><cbc:ID>SE:BANKGIRO</cbc:ID></cac:FinancialInstitutionBranch>')),
    ('SE-R-009', 0, 'seven', 'Bankgiro account of 7 digits', SE + pm('30', '1234567', None, '<cac:FinancialInstitutionBranch><cbc:ID>SE:BANKGIRO</cbc:ID></cac:FinancialInstitutionBranch>')),
    ('SE-R-011', 1, 'code-56', 'Swedish seller payment means 56', SE + pm('56')),
    ('SE-R-011', 0, 'code-30', 'Swedish seller payment means 30', SE),
    ('SE-R-012', 1, 'code-31', 'Swedish parties with payment means 31', country('SE', 'SE', 'SE556012579001') + pm('31')),
    ('SE-R-012', 0, 'code-30', 'Swedish parties with payment means 30', country('SE', 'SE', 'SE556012579001')),
    # Greece
    ('GR-R-001-1', 1, 'five-segments', 'Greek invoice number of 5 segments', GR + [('<cbc:ID>%s</cbc:ID>' % GR_OK_ID, '<cbc:ID>094014201|20/11/2026|0|1.1|A</cbc:ID>')]),
    ('GR-R-001-1', 0, 'six-segments', 'Greek invoice number of 6 segments', GR),
    ('GR-R-001-2', 1, 'other-tin', 'first segment is not the seller\'s TIN', GR + [('<cbc:ID>%s</cbc:ID>' % GR_OK_ID, '<cbc:ID>090000045|20/11/2026|0|1.1|A|1</cbc:ID>')]),
    ('GR-R-001-2', 0, 'seller-tin', 'first segment is the seller\'s TIN', GR),
    ('GR-R-001-3', 1, 'other-date', 'second segment is not the issue date', GR + [('<cbc:ID>%s</cbc:ID>' % GR_OK_ID, '<cbc:ID>094014201|21/11/2026|0|1.1|A|1</cbc:ID>')]),
    ('GR-R-001-3', 0, 'issue-date', 'second segment is the issue date', GR),
    ('GR-R-001-4', 1, 'negative', 'third segment negative', GR + [('<cbc:ID>%s</cbc:ID>' % GR_OK_ID, '<cbc:ID>094014201|20/11/2026|-1|1.1|A|1</cbc:ID>')]),
    ('GR-R-001-4', 0, 'zero', 'third segment 0', GR),
    ('GR-R-001-5', 1, 'type-9', 'fourth segment 9.9', GR + [('<cbc:ID>%s</cbc:ID>' % GR_OK_ID, '<cbc:ID>094014201|20/11/2026|0|9.9|A|1</cbc:ID>')]),
    ('GR-R-001-5', 0, 'type-1.1', 'fourth segment 1.1', GR),
    ('GR-R-001-6', 1, 'empty-5', 'fifth segment empty', GR + [('<cbc:ID>%s</cbc:ID>' % GR_OK_ID, '<cbc:ID>094014201|20/11/2026|0|1.1||1</cbc:ID>')]),
    ('GR-R-001-6', 0, 'full', 'fifth segment A', GR),
    ('GR-R-001-7', 1, 'empty-6', 'sixth segment empty', GR + [('<cbc:ID>%s</cbc:ID>' % GR_OK_ID, '<cbc:ID>094014201|20/11/2026|0|1.1|A|</cbc:ID>')]),
    ('GR-R-001-7', 0, 'full', 'sixth segment 1', GR),
    ('GR-R-002', 1, 'no-name', 'Greek seller without trading name', GR + [('<cbc:Name>Seller Ltd</cbc:Name>', '')]),
    ('GR-R-002', 0, 'name', 'Greek seller with name', GR),
    ('GR-S-011', 1, 'bad-tin', 'Greek seller VAT with a bad TIN', GR[:1] + GR[2:] + [(SUP_VAT, '<cbc:CompanyID>EL094014202</cbc:CompanyID>')]),
    ('GR-S-011', 0, 'tin', 'Greek seller VAT EL094014201', GR),
    ('GR-R-003', 1, 'gr-prefix', 'Greek seller VAT prefixed GR', GR[:1] + GR[2:] + [(SUP_VAT, '<cbc:CompanyID>GR094014201</cbc:CompanyID>')]),
    ('GR-R-003', 0, 'el-prefix', 'Greek seller VAT prefixed EL', GR),
    ('GR-R-004-1', 1, 'no-mark', 'Greek seller without MARK', GR),
    ('GR-R-004-1', 0, 'mark', 'Greek seller with MARK', GR_DOC),
    ('GR-S-008-1', 1, 'no-url', 'Greek seller without invoice URL', GR_DOC),
    ('GR-S-008-1', 0, 'url', 'Greek seller with one invoice URL',
     GR + [adr('##M.AR.K##', '400001'), adr('##INVOICE|URL##', 'U1', '<cac:Attachment><cac:ExternalReference><cbc:URI>https://example.gr/i</cbc:URI></cac:ExternalReference></cac:Attachment>')]),
    ('GR-R-008-2', 1, 'two-urls', 'Greek seller with two invoice URLs',
     GR + [adr('##M.AR.K##', '400001'), adr('##INVOICE|URL##', 'U1', '<cac:Attachment><cac:ExternalReference><cbc:URI>https://example.gr/i</cbc:URI></cac:ExternalReference></cac:Attachment>'),
           ('<cac:InvoicePeriod>\n    <cbc:StartDate>', '<cac:AdditionalDocumentReference><cbc:ID>U2</cbc:ID><cbc:DocumentDescription>##INVOICE|URL##</cbc:DocumentDescription></cac:AdditionalDocumentReference><cac:InvoicePeriod>\n    <cbc:StartDate>')]),
    ('GR-R-008-2', 0, 'no-url', 'Greek seller with no invoice URL', GR_DOC),
    ('GR-R-004-2', 1, 'zero-mark', 'MARK number starting with 0', GR + [adr('##M.AR.K##', '0400001')]),
    ('GR-R-004-2', 0, 'mark', 'MARK number 400001', GR_DOC),
    ('GR-R-008-3', 1, 'no-uri', 'invoice URL reference without URI', GR_DOC + [adr('##INVOICE|URL##', 'U1')]),
    ('GR-R-008-3', 0, 'uri', 'invoice URL reference with URI',
     GR_DOC + [adr('##INVOICE|URL##', 'U1', '<cac:Attachment><cac:ExternalReference><cbc:URI>https://example.gr/i</cbc:URI></cac:ExternalReference></cac:Attachment>')]),
    ('GR-R-005', 1, 'no-buyer-name', 'Greek seller, buyer without name', GR + [('<cbc:Name>Buyer NV</cbc:Name>', '')]),
    ('GR-R-005', 0, 'buyer-name', 'Greek seller, buyer with name', GR),
    ('GR-R-009', 1, 'gln-endpoint', 'Greek seller with a GLN endpoint', GR[:2] + GR[3:]),
    ('GR-R-009', 0, 'tin-endpoint', 'Greek seller with endpoint 9933 TIN', GR),
    ('GR-R-006', 1, 'no-buyer-vat', 'Greek buyer without VAT number', GR + country(None, 'GR')),
    ('GR-R-006', 0, 'buyer-vat', 'Greek buyer with VAT EL090000045',
     GR + country(None, 'GR') + [(CUS_LEGAL, CUS_LEGAL.replace('RegistrationName>Buyer NV</cbc:RegistrationName', 'RegistrationName>Buyer NV</cbc:RegistrationName')),
                                 ('<cac:PartyLegalEntity>\n        <cbc:RegistrationName>Buyer NV', '<cac:PartyTaxScheme><cbc:CompanyID>EL090000045</cbc:CompanyID><cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme></cac:PartyTaxScheme>\n      <cac:PartyLegalEntity>\n        <cbc:RegistrationName>Buyer NV'),
                                 (CUS_EP, '<cbc:EndpointID schemeID="9933">090000045</cbc:EndpointID>')]),
    ('GR-R-010', 1, 'be-endpoint', 'Greek buyer with a Belgian endpoint',
     GR + country(None, 'GR') + [('<cac:PartyLegalEntity>\n        <cbc:RegistrationName>Buyer NV', '<cac:PartyTaxScheme><cbc:CompanyID>EL090000045</cbc:CompanyID><cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme></cac:PartyTaxScheme>\n      <cac:PartyLegalEntity>\n        <cbc:RegistrationName>Buyer NV')]),
    ('GR-R-010', 0, 'tin-endpoint', 'Greek buyer with endpoint 9933 TIN',
     GR + country(None, 'GR') + [('<cac:PartyLegalEntity>\n        <cbc:RegistrationName>Buyer NV', '<cac:PartyTaxScheme><cbc:CompanyID>EL090000045</cbc:CompanyID><cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme></cac:PartyTaxScheme>\n      <cac:PartyLegalEntity>\n        <cbc:RegistrationName>Buyer NV'),
                                 (CUS_EP, '<cbc:EndpointID schemeID="9933">090000045</cbc:EndpointID>')]),
    # Iceland
    ('IS-R-001', 1, 'type-383', 'Icelandic seller, invoice type 383', IS + [('<cbc:InvoiceTypeCode>380', '<cbc:InvoiceTypeCode>383')]),
    ('IS-R-001', 0, 'type-380', 'Icelandic seller, invoice type 380', IS),
    ('IS-R-002', 1, 'no-kennitala', 'Icelandic seller without scheme 0196', country('IS', 'IS')),
    ('IS-R-002', 0, 'kennitala', 'Icelandic seller with scheme 0196', IS),
    ('IS-R-003', 1, 'no-street', 'Icelandic seller without street', IS + [('<cbc:StreetName>Main street 1</cbc:StreetName>', '')]),
    ('IS-R-003', 0, 'street', 'Icelandic seller with street', IS),
    ('IS-R-006', 1, 'short-account', 'Icelandic claim (9) with a short account', IS + pm('9', '123')),
    ('IS-R-006', 0, 'account-12', 'Icelandic claim (9) with 12-digit account', IS + pm('9', '012366123456')),
    ('IS-R-007', 1, 'short-account', 'Icelandic transfer (42) with a short account', IS + pm('42', '123')),
    ('IS-R-007', 0, 'account-12', 'Icelandic transfer (42) with 12-digit account', IS + pm('42', '012366123456')),
    ('IS-R-008', 1, 'bad-date', 'EINDAGI not a date', IS + [adr('EINDAGI', '20.12.2026')]),
    ('IS-R-008', 0, 'date', 'EINDAGI 2026-12-31', IS + [adr('EINDAGI', '2026-12-31')]),
    ('IS-R-009', 1, 'no-due', 'EINDAGI without due date', IS + [adr('EINDAGI', '2026-12-31'), ('<cbc:DueDate>2026-12-20</cbc:DueDate>', '')]),
    ('IS-R-009', 0, 'due', 'EINDAGI with due date', IS + [adr('EINDAGI', '2026-12-31')]),
    ('IS-R-010', 1, 'before-due', 'EINDAGI before the due date', IS + [adr('EINDAGI', '2026-12-19')]),
    ('IS-R-010', 0, 'after-due', 'EINDAGI after the due date', IS + [adr('EINDAGI', '2026-12-31')]),
    ('IS-R-004', 1, 'no-buyer-kennitala', 'Icelandic buyer without legal id', IS),
    ('IS-R-004', 0, 'buyer-kennitala', 'Icelandic buyer with legal id 0196',
     IS + [(CUS_LEGAL, CUS_LEGAL + '<cbc:CompanyID schemeID="0196">5202020202</cbc:CompanyID>')]),
    ('IS-R-005', 1, 'no-buyer-street', 'Icelandic buyer without street', IS + [('<cbc:StreetName>Kerkstraat 2</cbc:StreetName>', '')]),
    ('IS-R-005', 0, 'buyer-street', 'Icelandic buyer with street', IS),
    # Netherlands
    ('NL-R-001', 1, 'no-billing-ref', 'Dutch credit note without invoice reference', [CN] + NL),
    ('NL-R-001', 0, 'billing-ref', 'Dutch credit note with invoice reference',
     [CN] + NL + [(ADR, '<cac:BillingReference><cac:InvoiceDocumentReference><cbc:ID>INV-1</cbc:ID></cac:InvoiceDocumentReference></cac:BillingReference>\n  ' + ADR)]),
    ('NL-R-002', 1, 'no-city', 'Dutch seller without city', NL + [('<cbc:CityName>London</cbc:CityName>', '')]),
    ('NL-R-002', 0, 'address', 'Dutch seller with full address', NL),
    ('NL-R-003', 1, 'no-kvk', 'Dutch seller legal id without scheme', NL),
    ('NL-R-003', 0, 'kvk', 'Dutch seller legal id KVK (0106)', NL + [(SUP_LEGAL, '<cbc:CompanyID schemeID="0106">12345678</cbc:CompanyID>')]),
    ('NL-R-004', 1, 'no-buyer-zip', 'Dutch buyer without post code', NL + country(None, 'NL') + [('<cbc:PostalZone>9000</cbc:PostalZone>', '')]),
    ('NL-R-004', 0, 'buyer-address', 'Dutch buyer with full address', NL + country(None, 'NL')),
    ('NL-R-005', 1, 'buyer-no-kvk', 'Dutch buyer legal id without scheme',
     NL + country(None, 'NL') + [(CUS_LEGAL, CUS_LEGAL + '<cbc:CompanyID>87654321</cbc:CompanyID>')]),
    ('NL-R-005', 0, 'buyer-oin', 'Dutch buyer legal id OIN (0190)',
     NL + country(None, 'NL') + [(CUS_LEGAL, CUS_LEGAL + '<cbc:CompanyID schemeID="0190">00000001234567890000</cbc:CompanyID>')]),
    ('NL-R-006', 1, 'rep-no-street', 'Dutch tax representative without street',
     NL + [('<cac:PaymentMeans>', '<cac:TaxRepresentativeParty><cac:PartyName><cbc:Name>Rep</cbc:Name></cac:PartyName><cac:PostalAddress><cbc:CityName>Utrecht</cbc:CityName><cbc:PostalZone>3511</cbc:PostalZone><cac:Country><cbc:IdentificationCode>NL</cbc:IdentificationCode></cac:Country></cac:PostalAddress></cac:TaxRepresentativeParty>\n  <cac:PaymentMeans>')]),
    ('NL-R-006', 0, 'rep-address', 'Dutch tax representative with full address',
     NL + [('<cac:PaymentMeans>', '<cac:TaxRepresentativeParty><cac:PartyName><cbc:Name>Rep</cbc:Name></cac:PartyName><cac:PostalAddress><cbc:StreetName>Oudegracht 1</cbc:StreetName><cbc:CityName>Utrecht</cbc:CityName><cbc:PostalZone>3511</cbc:PostalZone><cac:Country><cbc:IdentificationCode>NL</cbc:IdentificationCode></cac:Country></cac:PostalAddress></cac:TaxRepresentativeParty>\n  <cac:PaymentMeans>')]),
    ('NL-R-007', 1, 'no-payment-means', 'Dutch seller, amount due, no payment means',
     NL + [('<cac:PaymentMeans>\n    <cbc:PaymentMeansCode>30</cbc:PaymentMeansCode>\n    <cbc:PaymentID>INV-1001</cbc:PaymentID>\n    <cac:PayeeFinancialAccount>\n      <cbc:ID>GB82WEST12345698765432</cbc:ID>\n    </cac:PayeeFinancialAccount>\n  </cac:PaymentMeans>', '')]),
    ('NL-R-007', 0, 'payment-means', 'Dutch seller with payment means', NL),
    ('NL-R-008', 1, 'code-31', 'Dutch seller and buyer, payment means 31', country('NL', 'NL') + pm('31')),
    ('NL-R-008', 0, 'foreign-buyer', 'Dutch seller, Belgian buyer, payment means 31: the rule is for Dutch buyers only (2026.5)', NL + pm('31')),
    ('NL-R-008', 0, 'code-30', 'Dutch seller payment means 30', NL),
    ('NL-R-009', 1, 'no-order', 'Dutch seller, order line reference without order reference',
     NL + [('<cbc:ID>2</cbc:ID>', '<cbc:ID>2</cbc:ID><cac:OrderLineReference><cbc:LineID>3</cbc:LineID></cac:OrderLineReference>')]),
    ('NL-R-009', 0, 'order', 'Dutch seller, order line reference with order reference',
     NL + [('<cbc:ID>2</cbc:ID>', '<cbc:ID>2</cbc:ID><cac:OrderLineReference><cbc:LineID>3</cbc:LineID></cac:OrderLineReference>'),
           (ADR, '<cac:OrderReference><cbc:ID>PO-1</cbc:ID></cac:OrderReference>\n  ' + ADR)]),
    # Code lists and formats
    ('PEPPOL-EN16931-CL001', 1, 'gif', 'attachment image/gif',
     [adr('Spec', 'A1', '<cac:Attachment><cbc:EmbeddedDocumentBinaryObject mimeCode="image/gif" filename="a.gif">R0lG</cbc:EmbeddedDocumentBinaryObject></cac:Attachment>')]),
    ('PEPPOL-EN16931-CL001', 0, 'pdf', 'attachment application/pdf',
     [adr('Spec', 'A1', '<cac:Attachment><cbc:EmbeddedDocumentBinaryObject mimeCode="application/pdf" filename="a.pdf">JVBE</cbc:EmbeddedDocumentBinaryObject></cac:Attachment>')]),
    ('PEPPOL-EN16931-CL002', 1, 'code-1', 'allowance reason code 1', [('<cbc:AllowanceChargeReasonCode>95</cbc:AllowanceChargeReasonCode>\n      <cbc:Amount currencyID="EUR">20.00', '<cbc:AllowanceChargeReasonCode>1</cbc:AllowanceChargeReasonCode>\n      <cbc:Amount currencyID="EUR">20.00')]),
    ('PEPPOL-EN16931-CL002', 0, 'code-95', 'allowance reason code 95', []),
    ('PEPPOL-EN16931-CL003', 1, 'code-XX', 'charge reason code XX',
     [('<cbc:ChargeIndicator>false</cbc:ChargeIndicator>\n      <cbc:AllowanceChargeReasonCode>95</cbc:AllowanceChargeReasonCode>\n      <cbc:Amount currencyID="EUR">20.00', '<cbc:ChargeIndicator>true</cbc:ChargeIndicator>\n      <cbc:AllowanceChargeReasonCode>XX</cbc:AllowanceChargeReasonCode>\n      <cbc:Amount currencyID="EUR">20.00')]),
    ('PEPPOL-EN16931-CL003', 0, 'code-FC', 'charge reason code FC',
     [('<cbc:ChargeIndicator>false</cbc:ChargeIndicator>\n      <cbc:AllowanceChargeReasonCode>95</cbc:AllowanceChargeReasonCode>\n      <cbc:Amount currencyID="EUR">20.00', '<cbc:ChargeIndicator>true</cbc:ChargeIndicator>\n      <cbc:AllowanceChargeReasonCode>FC</cbc:AllowanceChargeReasonCode>\n      <cbc:Amount currencyID="EUR">20.00')]),
    ('PEPPOL-EN16931-CL006', 1, 'code-1', 'period description code 1',
     [('<cbc:EndDate>2026-11-30</cbc:EndDate>', '<cbc:EndDate>2026-11-30</cbc:EndDate><cbc:DescriptionCode>1</cbc:DescriptionCode>')]),
    ('PEPPOL-EN16931-CL006', 0, 'code-35', 'period description code 35',
     [('<cbc:EndDate>2026-11-30</cbc:EndDate>', '<cbc:EndDate>2026-11-30</cbc:EndDate><cbc:DescriptionCode>35</cbc:DescriptionCode>')]),
    ('PEPPOL-EN16931-CL007', 1, 'euro-sign', 'currency EURO',
     [('<cbc:PayableAmount currencyID="EUR">', '<cbc:PayableAmount currencyID="EURO">')]),
    ('PEPPOL-EN16931-CL007', 0, 'eur', 'currency EUR', []),
    ('PEPPOL-EN16931-P0100', 1, 'type-71-profile-01', 'invoice type 999 in process 01', [('<cbc:InvoiceTypeCode>380', '<cbc:InvoiceTypeCode>999')]),
    ('PEPPOL-EN16931-P0100', 0, 'type-380', 'invoice type 380 in process 01', []),
    ('PEPPOL-EN16931-P0101', 1, 'type-380', 'credit note type 380 in process 01', [CN, ('<cbc:CreditNoteTypeCode>381', '<cbc:CreditNoteTypeCode>380')]),
    ('PEPPOL-EN16931-P0101', 0, 'type-381', 'credit note type 381 in process 01', [CN]),
    ('PEPPOL-EN16931-F001', 1, 'short-date', 'issue date 2026-11-2', [('<cbc:IssueDate>2026-11-20', '<cbc:IssueDate>2026-11-2')]),
    ('PEPPOL-EN16931-F001', 0, 'date', 'issue date 2026-11-20', []),
    ('PEPPOL-EN16931-CL008', 1, 'scheme-GLN', 'endpoint scheme GLN', [(SUP_EP, '<cbc:EndpointID schemeID="GLN">7300010000001</cbc:EndpointID>')]),
    ('PEPPOL-EN16931-CL008', 0, 'scheme-0088', 'endpoint scheme 0088', []),
]

# Germany
DE = country('DE', 'DE')
PFA = '<cac:PayeeFinancialAccount>\n      <cbc:ID>GB82WEST12345698765432</cbc:ID>\n    </cac:PayeeFinancialAccount>'
CARD = '<cac:CardAccount><cbc:PrimaryAccountNumberID>1234</cbc:PrimaryAccountNumberID><cbc:NetworkID>VISA</cbc:NetworkID></cac:CardAccount>'
MANDATE = '<cac:PaymentMandate><cbc:ID>M1</cbc:ID><cac:PayerFinancialAccount><cbc:ID>%s</cbc:ID></cac:PayerFinancialAccount></cac:PaymentMandate>'
CASES += [
    ('DE-R-014', 1, 'no-rate', 'German parties, a VAT breakdown without rate', DE + [(TAXCAT + '\n        <cbc:Percent>25</cbc:Percent>', TAXCAT)]),
    ('DE-R-014', 0, 'rate', 'German parties, VAT breakdown with rate', DE),
    ('DE-R-019', 1, 'bad-iban', 'German SEPA transfer to DE89370400440532013001', DE + pm('58', 'DE89370400440532013001')),
    ('DE-R-019', 0, 'iban', 'German SEPA transfer to DE89 3704 0044 0532 0130 00', DE + pm('58', 'DE89 3704 0044 0532 0130 00')),
    ('DE-R-023-1', 1, 'no-account', 'German credit transfer without account', DE + [(PFA, '')]),
    ('DE-R-023-1', 0, 'account', 'German credit transfer with account', DE),
    ('DE-R-023-2', 1, 'mandate', 'German credit transfer with a mandate', DE + [(PFA, PFA + MANDATE % 'DE89370400440532013000')]),
    ('DE-R-023-2', 0, 'account-only', 'German credit transfer with account only', DE),
    ('DE-R-024-1', 1, 'no-card', 'German card payment without card', DE + pm('48') + [(PFA, '')]),
    ('DE-R-024-1', 0, 'card', 'German card payment with card', DE + pm('48') + [(PFA, CARD)]),
    ('DE-R-024-2', 1, 'card-and-account', 'German card payment with a transfer account too', DE + pm('48') + [(PFA, PFA + CARD)]),
    ('DE-R-024-2', 0, 'card', 'German card payment with card only', DE + pm('48') + [(PFA, CARD)]),
    ('DE-R-025-1', 1, 'no-mandate', 'German direct debit without mandate', DE + pm('59') + [(PFA, '')]),
    ('DE-R-025-1', 0, 'mandate', 'German direct debit with mandate', DE + pm('59') + [(PFA, MANDATE % 'DE89370400440532013000')]),
    ('DE-R-025-2', 1, 'mandate-and-account', 'German direct debit with a transfer account too', DE + pm('59') + [(PFA, PFA + MANDATE % 'DE89370400440532013000')]),
    ('DE-R-025-2', 0, 'mandate', 'German direct debit with mandate only', DE + pm('59') + [(PFA, MANDATE % 'DE89370400440532013000')]),
    ('DE-R-020', 1, 'bad-iban', 'German direct debit from DE89370400440532013001', DE + pm('59') + [(PFA, MANDATE % 'DE89370400440532013001')]),
    ('DE-R-020', 0, 'iban', 'German direct debit from DE89370400440532013000', DE + pm('59') + [(PFA, MANDATE % 'DE89370400440532013000')]),
    ('PEPPOL-EN16931-P0112', 1, 'type-326-gb', 'invoice type 326 from a British seller', [('<cbc:InvoiceTypeCode>380', '<cbc:InvoiceTypeCode>326')]),
    ('PEPPOL-EN16931-P0112', 0, 'type-326-de', 'invoice type 326 between German parties', DE + [('<cbc:InvoiceTypeCode>380', '<cbc:InvoiceTypeCode>326')]),
]

VATEX = [('P0104', 'G', 'G'), ('P0105', 'O', 'O'), ('P0106', 'IC', 'K'), ('P0107', 'AE', 'AE'),
         ('P0108', 'D', 'E'), ('P0109', 'F', 'E'), ('P0110', 'I', 'E'), ('P0111', 'J', 'E')]
for rule, code, cat in VATEX:
    exempt = '<cbc:ID>%s</cbc:ID>\n        <cbc:Percent>0</cbc:Percent><cbc:TaxExemptionReasonCode>vatex-eu-%s</cbc:TaxExemptionReasonCode>'
    CASES.append(('PEPPOL-EN16931-' + rule, 1, 'category-S', 'VATEX-EU-%s with category S' % code,
                  [(TAXCAT + '\n        <cbc:Percent>25</cbc:Percent>', '<cac:TaxCategory>\n        ' + exempt % ('S', code.lower()))]))
    CASES.append(('PEPPOL-EN16931-' + rule, 0, 'category-' + cat, 'VATEX-EU-%s with category %s' % (code, cat),
                  [(TAXCAT + '\n        <cbc:Percent>25</cbc:Percent>', '<cac:TaxCategory>\n        ' + exempt % (cat, code.lower()))]))


def credit_note(doc):
    for a, b in [('<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"',
                  '<CreditNote xmlns="urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2"'),
                 ('</Invoice>', '</CreditNote>'), ('<cbc:InvoiceTypeCode>380</cbc:InvoiceTypeCode>', '<cbc:CreditNoteTypeCode>381</cbc:CreditNoteTypeCode>'),
                 ('InvoiceLine>', 'CreditNoteLine>'), ('InvoicedQuantity', 'CreditedQuantity')]:
        doc = doc.replace(a, b)
    return doc


def build(edits):
    doc = BASE
    for e in edits:
        if e == CN:
            doc = credit_note(doc)
            continue
        old, new = e
        n = doc.count(old)
        if n != 1:
            raise SystemExit('edit matches %d times: %r' % (n, old[:80]))
        doc = doc.replace(old, new)
    return doc


def main():
    for rule, fires, name, what, edits in CASES:
        doc = build(edits)
        head, rest = doc.split('\n', 1)
        rest = rest.split('-->', 1)[1].lstrip('\n')   # drop base.xml's own comment
        kind = 'fires' if fires else 'passes'
        comment = '<!-- %s %s: %s (generated from base.xml by gen_cases.py) -->' % (
            rule, 'fires' if fires else 'does not fire', what.replace('--', '-'))
        d = os.path.join(HERE, rule)
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, '%s-%s.xml' % (kind, name)), 'w', encoding='utf-8') as f:
            f.write(head + '\n' + comment + '\n' + rest)
    print('%d cases' % len(CASES))


if __name__ == '__main__':
    main()
