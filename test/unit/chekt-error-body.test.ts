import { MAX_ERROR_MESSAGE_LENGTH, parseErrorBody, scrubPersonalData } from '../../src/chekt/errorBody.js';

describe('parseErrorBody', () => {
  it('reads the {error:{code,message,field,request_id}} envelope', () => {
    const body = JSON.stringify({ error: { code: 'invalid_field', message: 'bad phone', field: 'phone_number', request_id: 'req_91kxl2' } });
    expect(parseErrorBody(body)).toEqual({
      code: 'invalid_field',
      message: 'bad phone',
      field: 'phone_number',
      requestId: 'req_91kxl2',
      internalStatus: undefined,
    });
  });

  it('reads flat {code,message,field} and bare {message}', () => {
    expect(parseErrorBody('{"code":"not_found","message":"Contact not found","field":"contact_id"}')).toMatchObject({
      code: 'not_found',
      message: 'Contact not found',
      field: 'contact_id',
    });
    expect(parseErrorBody('{"message":"Site not found"}')).toMatchObject({ code: undefined, message: 'Site not found', field: undefined });
  });

  it('reads RFC 6749 {error, error_description}', () => {
    expect(parseErrorBody('{"error":"invalid_client","error_description":"Client authentication failed"}')).toMatchObject({
      code: 'invalid_client',
      message: 'Client authentication failed',
    });
    expect(parseErrorBody('{"error":"something went wrong here"}')).toMatchObject({ code: undefined, message: 'something went wrong here' });
  });

  it('reads the first entry of {errors:[...]}', () => {
    expect(parseErrorBody('{"errors":[{"code":"too_long","field":"email","message":"too long"}]}')).toMatchObject({
      code: 'too_long',
      field: 'email',
    });
  });

  it('reads CHeKT internal "<status>|<message>" text, also as a JSON string', () => {
    expect(parseErrorBody('404|Contact does not exist')).toMatchObject({ internalStatus: 404, message: 'Contact does not exist', code: undefined });
    expect(parseErrorBody('"500|Internal"')).toMatchObject({ internalStatus: 500, message: 'Internal' });
  });

  it('keeps plain text and HTML as a one-line message', () => {
    expect(parseErrorBody('Bad Gateway')).toMatchObject({ message: 'Bad Gateway', code: undefined });
    expect(parseErrorBody('<html>\n<body><h1>502 Bad Gateway</h1></body>\n</html>').message).toBe('502 Bad Gateway');
  });

  it('returns all-undefined for empty, whitespace, null and undefined', () => {
    for (const b of ['', '   \n', null, undefined]) {
      expect(parseErrorBody(b)).toEqual({ code: undefined, message: undefined, field: undefined, requestId: undefined, internalStatus: undefined });
    }
  });

  it('never throws on odd JSON', () => {
    for (const b of ['{', '[]', '[1,2]', 'null', '42', '{"error":null}', '{"error":{"code":{"nested":1}}}', '{"a":1}', '{"message":{"x":1}}']) {
      expect(() => parseErrorBody(b)).not.toThrow();
    }
    expect(parseErrorBody('{"a":1}').message).toBe('{"a":1}');
    expect(parseErrorBody('{"error":{"code":{"nested":1}}}').code).toBeUndefined();
  });

  it('stringifies numeric codes', () => {
    expect(parseErrorBody('{"code":40401,"message":"x"}').code).toBe('40401');
  });

  it('caps long messages and codes', () => {
    const long = 'x'.repeat(5000);
    expect(parseErrorBody(long).message).toHaveLength(MAX_ERROR_MESSAGE_LENGTH);
    expect(parseErrorBody(JSON.stringify({ error: { code: long, message: long } })).code!.length).toBeLessThanOrEqual(100);
    expect(parseErrorBody(JSON.stringify({ message: long })).message).toHaveLength(MAX_ERROR_MESSAGE_LENGTH);
  });
});

describe('scrubPersonalData', () => {
  test.each([
    ['phone_number "+1 (201) 555-0123" is invalid', 'phone_number "[phone]" is invalid'],
    ['email John.Doe@Example.com already used', 'email [email] already used'],
    ['bad value 2015550123 for field', 'bad value [phone] for field'],
    ['first_name too long (max 255)', 'first_name too long (max 255)'],
    ['request req_91kxl2 at 2026-01-15', 'request req_91kxl2 at 2026-01-15'],
  ])('%j → %j', (input, expected) => {
    expect(scrubPersonalData(input)).toBe(expected);
  });

  test('parsed error messages are scrubbed', () => {
    expect(parseErrorBody(JSON.stringify({ error: { code: 'invalid_field', message: 'jane@example.com: +44 20 7946 0958 rejected' } })).message).toBe('[email]: [phone] rejected');
  });
});
