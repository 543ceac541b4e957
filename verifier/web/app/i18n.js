// Words on the screen, in English and Chinese. Reasons are keyed by the
// verdict's stable `code` (docs/verifier.md); in English the core's own
// sentence is shown, which carries the numbers ("expired 3 h 12 min ago").

export const STRINGS = {
  en: {
    title: 'sealpass checkpoint',
    profile: 'Profile',
    lang_switch: '中文',
    start_camera: 'Start the camera',
    hint: "Hold the pass's QR code inside the square",
    lists: 'Trust lists on this phone',
    sync: 'Sync now',
    syncing: 'Syncing…',
    type_pass: 'Type or paste a pass',
    pass_text: 'Pass text (starts with SP1: or SP2:)',
    check: 'Check',
    settings: 'Settings and details',
    base_url: 'Sync from (trust-list.cbor and status/ are fetched from here)',
    save: 'Save',
    next: 'Scan the next pass',
    valid: 'VALID',
    not_valid: 'NOT VALID',
    undecided: 'CANNOT DECIDE',
    green: 'green',
    yellow: 'yellow',
    red: 'red',
    valid_for: (d) => `valid for ${d}`,
    vaccine_line: (doses, last) => `Vaccine: ${doses} dose${doses === 1 ? '' : 's'}${last ? `, last ${last}` : ''}`,
    test_line: (result, ago) => `Test: ${result}, ${ago} ago`,
    no_test: 'Test: none on the pass',
    result: { negative: 'negative', positive: 'POSITIVE' },
    checked: (what) => `Checked: ${what}`,
    holder_live: (ago) => `Live code from the holder's phone, signed ${ago} ago`,
    holder_not_bound: 'Not bound to a phone: compare the ID number with an identity card',
    already_scanned: (ago) => `ALREADY SCANNED ${ago} ago here: look at the person`,
    check_colour: (colour) => colour,
    check_test: (max, ago, result) => `test ≤ ${max}: ${ago} ago, ${result}`,
    check_doses: (min, doses) => `doses ≥ ${min}: ${doses}`,
    no_camera: 'No camera: allow the camera for this page, or type a pass below.',
    camera_needs_tap: 'Tap "Start the camera" to scan.',
    profiles: {
      subway: 'subway: green',
      office: 'office: green, test ≤ 48 h',
      hospital: 'hospital: green, test ≤ 24 h, 2 doses',
      outdoor: 'outdoor: green or yellow',
    },
    fresh: (age, left) => `Trust list OK: issued ${age} ago, expires in ${left}.`,
    expires_soon: (left) => `Sync soon: the trust list expires in ${left}.`,
    expired: 'The trust list has EXPIRED: sync before checking passes.',
    no_list: 'No trust list yet: connect to the network and sync.',
    clock: 'This phone\'s clock was set back: set it right.',
    seconds: (n) => `${n} s`,
    clock_off: (ahead, by) => `This phone's clock is ${by} ${ahead ? 'ahead of' : 'behind'} the list server's: live codes will be refused. Set the clock.`,
    not_ready_revocation: (issuers) => `NOT READY: revocation cannot be checked for ${issuers} (no current status list). Sync now; until then these passes are not decided.`,
    trust_expires_before_sync: (left) => `The trust list expires in ${left}, before the next planned sync: sync now.`,
    status_expires_before_sync: (issuer, left) => `The status list of ${issuer} expires in ${left}, before the next planned sync: sync now.`,
    unchecked_action: 'Sync the lists now. Do not admit on this pass until then.',
    reset_trust: 'Reset this phone\'s trust…',
    reset_confirm: 'Forget the pinned roots, the lists and the highest trust-list sequence this phone has accepted, and pin the roots served with the app again?\n\nDo this only when the key ceremony says so: it lets an older trust list be accepted.',
    highest_sequence: 'Highest trust-list sequence accepted',
    trust_line: (seq, issued, expires) => `Trust list sequence ${seq}, issued ${issued}, expires ${expires}`,
    status_line: (issuer, state, issued, expires) => state === 'missing'
      ? `Status list of ${issuer}: NONE — its passes cannot be decided until a sync`
      : `Status list of ${issuer}: ${state === 'expired' ? 'EXPIRED' : 'current'}, issued ${issued}, expires ${expires}`,
    last_sync: (ago) => `Last sync ${ago} ago`,
    never_synced: 'Never synced',
    sync_results: {
      bootstrapped: 'accepted against the pinned roots',
      replaced: 'accepted (newer)',
      accepted: 'accepted',
      unchanged: 'unchanged',
      refused: 'REFUSED',
      unavailable: 'not reachable',
    },
    trust_list: 'trust list',
    status_list: (issuer) => `status list of ${issuer}`,
    roots: 'Pinned roots',
    roots_value: (r) => `${r.threshold} of ${r.custodians.length}, fingerprint ${r.fingerprint}`,
    roots_missing: 'none: open this page from the issuer while online',
    decode_time: 'Decoding',
    decode_value: (s) => `${s.medianMs.toFixed(1)} ms per ${s.width}×${s.height} frame (median of ${s.samples})`,
    newest_seen: 'Newest time seen',
    // Where the core's sentence is not the headline; the sentence is shown below.
    reasons: {
      revocation_not_checked: 'Could not check revocation',
    },
    duration: (d, h, m) => [d && `${d} d`, h && `${h} h`, (m || (!d && !h)) && `${m} min`].filter(Boolean).join(' '),
    announce_valid: (v, time) => `Valid, ${v.colour}. ${v.masked_name}. ID ${v.masked_id}. ${time}.`,
    announce_refused: (word, reason) => `${word}. ${reason}`,
  },
  zh: {
    title: 'sealpass 查验',
    profile: '查验场所',
    lang_switch: 'English',
    start_camera: '打开摄像头',
    hint: '请将通行码对准方框',
    lists: '本机信任列表',
    sync: '立即同步',
    syncing: '正在同步…',
    type_pass: '输入或粘贴通行码',
    pass_text: '通行码文本（以 SP1: 或 SP2: 开头）',
    check: '查验',
    settings: '设置与详情',
    base_url: '同步地址（从此处获取 trust-list.cbor 和 status/）',
    save: '保存',
    next: '查验下一个',
    valid: '有效',
    not_valid: '无效',
    undecided: '无法判断',
    green: '绿码',
    yellow: '黄码',
    red: '红码',
    valid_for: (d) => `还有 ${d} 有效`,
    vaccine_line: (doses, last) => `疫苗：${doses} 剂${last ? `，末次 ${last}` : ''}`,
    test_line: (result, ago) => `核酸：${result}，${ago}前`,
    no_test: '核酸：通行码上无记录',
    result: { negative: '阴性', positive: '阳性' },
    checked: (what) => `已查验：${what}`,
    holder_live: (ago) => `持有人手机出示的动态码，${ago}前签署`,
    holder_not_bound: '未绑定手机：请核对身份证号码',
    already_scanned: (ago) => `此码 ${ago}前已在此扫描过：请核对本人`,
    check_colour: (colour) => ({ green: '绿码', yellow: '黄码', red: '红码' })[colour] || colour,
    check_test: (max, ago, result) => `核酸 ≤ ${max}：${ago}前，${result}`,
    check_doses: (min, doses) => `接种 ≥ ${min} 剂：${doses} 剂`,
    no_camera: '无法使用摄像头：请允许本页面使用摄像头，或在下方输入通行码。',
    camera_needs_tap: '请点击“打开摄像头”开始查验。',
    profiles: {
      subway: '地铁：绿码',
      office: '办公楼：绿码，48 小时内核酸',
      hospital: '医院：绿码，24 小时内核酸，接种 2 剂',
      outdoor: '户外：绿码或黄码',
    },
    fresh: (age, left) => `信任列表正常：${age}前签发，${left}后过期。`,
    expires_soon: (left) => `请尽快同步：信任列表将在 ${left}后过期。`,
    expired: '信任列表已过期：请先同步再查验。',
    no_list: '尚无信任列表：请联网同步。',
    clock: '本机时钟被调回：请校正时间。',
    seconds: (n) => `${n} 秒`,
    clock_off: (ahead, by) => `本机时钟比名单服务器${ahead ? '快' : '慢'} ${by}：动态码会被拒绝。请校正时间。`,
    not_ready_revocation: (issuers) => `未就绪：无法核验 ${issuers} 的撤销状态（没有有效的吊销列表）。请立即同步；同步前这些通行码无法判断。`,
    trust_expires_before_sync: (left) => `信任列表将在 ${left}后过期，早于下次计划同步：请立即同步。`,
    status_expires_before_sync: (issuer, left) => `${issuer} 的吊销列表将在 ${left}后过期，早于下次计划同步：请立即同步。`,
    unchecked_action: '请立即同步吊销列表。同步前请勿凭此码放行。',
    reset_trust: '重置本机信任…',
    reset_confirm: '清除本机固定的根密钥、所有列表和已接受的最高信任列表版本号，并重新固定随应用提供的根密钥？\n\n仅在密钥仪式要求时这样做：这会允许接受较旧的信任列表。',
    highest_sequence: '已接受的最高信任列表版本',
    trust_line: (seq, issued, expires) => `信任列表 第 ${seq} 版，签发于 ${issued}，过期于 ${expires}`,
    status_line: (issuer, state, issued, expires) => state === 'missing'
      ? `${issuer} 的吊销列表：无——同步前无法判断其通行码`
      : `${issuer} 的吊销列表：${state === 'expired' ? '已过期' : '有效'}，签发于 ${issued}，过期于 ${expires}`,
    last_sync: (ago) => `上次同步：${ago}前`,
    never_synced: '从未同步',
    sync_results: {
      bootstrapped: '已按固定根密钥接受',
      replaced: '已更新',
      accepted: '已接受',
      unchanged: '无变化',
      refused: '已拒绝',
      unavailable: '无法获取',
    },
    trust_list: '信任列表',
    status_list: (issuer) => `${issuer} 的吊销列表`,
    roots: '固定根密钥',
    roots_value: (r) => `${r.custodians.length} 取 ${r.threshold}，指纹 ${r.fingerprint}`,
    roots_missing: '无：请联网从签发方打开本页面',
    decode_time: '解码耗时',
    decode_value: (s) => `每帧 ${s.medianMs.toFixed(1)} 毫秒（${s.width}×${s.height}，${s.samples} 帧中位数）`,
    newest_seen: '见过的最新时间',
    duration: (d, h, m) => [d && `${d} 天`, h && `${h} 小时`, (m || (!d && !h)) && `${m} 分钟`].filter(Boolean).join(' '),
    announce_valid: (v, time) => `有效，${v.colour === 'yellow' ? '黄码' : v.colour === 'red' ? '红码' : '绿码'}。${v.masked_name}。证件号 ${v.masked_id}。${time}。`,
    announce_refused: (word, reason) => `${word}。${reason}`,
    reasons: {
      expired: '通行码已过期',
      not_yet_valid: '通行码尚未生效',
      issued_in_future: '通行码签发时间在未来：请检查本机时钟',
      pass_revoked: '通行码已被吊销',
      revocation_index_out_of_range: '通行码不在吊销列表范围内',
      status_list_expired: '吊销列表已过期：请先同步',
      revocation_not_checked: '无法核验撤销状态',
      lifetime_too_long: '通行码有效期超过签发密钥允许的上限',
      event_in_future: '检测或接种时间在未来：请检查本机时钟，或此码不可信',
      trust_list_expired: '信任列表已过期：请先同步',
      unknown_issuer_key: '签发密钥未知：请同步，或此码并非可信机构签发',
      issuer_key_revoked: '签发密钥已被吊销：不接受此码',
      issuer_mismatch: '签发机构与密钥不符',
      key_not_valid_at_issuance: '签发时密钥不在有效期内',
      bad_signature: '签名验证失败：此码被篡改或伪造',
      algorithm_mismatch: '签名算法不符',
      policy_colour: '此场所不接受该颜色的码',
      policy_no_test: '无核酸检测记录',
      policy_test_positive: '最近一次核酸检测为阳性',
      policy_test_too_old: '核酸检测时间超出本场所要求',
      policy_doses: '疫苗接种剂次不足',
      no_trust_list: '本机尚无信任列表：请联网同步',
      trust_list_damaged: '本机存储的信任列表已损坏：请重新同步',
      clock_behind: '本机时钟被调回：请校正时间',
      clock_unreadable: '本机时钟错误：请校正时间',
      decode: '不是有效的通行码（已损坏或格式错误）',
      bound_pass_not_live: '此码已绑定持有人手机：只接受手机上的动态码，不接受截图或复制件',
      not_holder_bound: '动态码中的通行码未绑定手机',
      wrong_device: '不是此码所绑定的手机',
      device_signature_high_s: '手机签名格式不符：不是真实的动态码，或页面需要更新',
      live_code_too_old: '动态码已过时：请出示手机上的实时动态码，而非截图',
      phone_clock_ahead: '手机时钟超前：请检查手机时钟，以及本设备的时钟',
      policy_live_code_required: '此场所只接受手机上的动态码，不接受打印件或复制件',
    },
  },
};

export function pickLanguage(stored, navigatorLanguage) {
  if (stored === 'en' || stored === 'zh') return stored;
  return (navigatorLanguage || '').toLowerCase().startsWith('zh') ? 'zh' : 'en';
}

/** Seconds as "23 h 12 min" / "23 小时 12 分钟". */
export function duration(t, seconds) {
  const s = Math.max(0, Math.floor(seconds));
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  return t.duration(d, d >= 2 ? 0 : h, d ? 0 : m);
}

/**
 * The lines the seeds' codes showed, from the verdict (all from the pass):
 * vaccination, test, and what the policy checked when it admitted the pass.
 */
export function healthLines(t, verdict) {
  const vaccine = verdict.vaccination
    ? t.vaccine_line(verdict.vaccination.doses, verdict.vaccination.last_dose) : '';
  const test = !verdict.vaccination ? ''
    : verdict.test ? t.test_line(t.result[verdict.test.result] || verdict.test.result, duration(t, verdict.test.age_seconds))
      : t.no_test;
  const checks = (verdict.checked || []).map((check) => {
    switch (check.rule) {
      case 'colour': return t.check_colour(check.colour);
      case 'test': return t.check_test(duration(t, check.max_age_seconds), duration(t, check.age_seconds),
        t.result[check.result] || check.result);
      case 'doses': return t.check_doses(check.min_doses, check.doses);
      default: return check.rule;
    }
  });
  return { vaccine, test, checked: checks.length ? t.checked(checks.join(t === STRINGS.zh ? '，' : ', ')) : '' };
}

/** The one plain reason for a refused pass, in the page's language. */
export function reasonText(lang, verdict) {
  if (lang === 'zh') {
    const zh = STRINGS.zh.reasons;
    return zh[verdict.code] || (verdict.phase === 'decode' ? zh.decode : verdict.reason);
  }
  return STRINGS.en.reasons[verdict.code] || verdict.reason;
}
