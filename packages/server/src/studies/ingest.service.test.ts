import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { maskIdentity } from './ingest.service.js';

describe('ingest: descriptions kept for search carry no identifying values', () => {
  test('name words, ID, birth date, accession and long digit runs are masked', () => {
    const q = {
      transferSyntaxUid: '1.2.840.10008.1.2.1',
      patientName: 'Doe^John',
      patientId: 'AB-1234',
      patientBirthDate: '19700101',
      accessionNumber: 'ACC77',
    };
    assert.equal(
      maskIdentity('CT chest for JOHN DOE (ab-1234) born 19700101 acc ACC77 ref 5551234', q),
      'CT chest for **** *** (*******) born ******** acc ***** ref *******',
    );
    assert.equal(maskIdentity('Brain MRI', q), 'Brain MRI');
    assert.equal(maskIdentity(undefined, q), '');
  });
});
