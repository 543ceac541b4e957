// The citizen page's words, in English and Chinese. The language follows
// the browser's, can be switched with the button, and is remembered.

const MESSAGES = {
  en: {
    title: 'Health pass',
    lang_button: '中文',
    demo_banner: 'DEMO: development keys and synthetic people. Never a real pass.',
    page_error: 'Something went wrong on this page. Reload it: your pass stays on this phone.',
    name: 'Name',
    id_number: 'ID',
    valid_until: 'Valid until',
    vaccine: 'Vaccine',
    test: 'Test',
    doses: '{0} doses',
    one_dose: '1 dose',
    last_dose: '{0}, last {1}',
    negative: 'negative',
    positive: 'POSITIVE',
    test_ago: '{0}, {1} ago',
    no_test: 'none on the pass',
    minutes: '{0} min',
    hours: '{0} h',
    days: '{0} d',
    refresh: 'Refresh now',
    logout: 'Log out',
    as_text: 'The pass as text (for a checkpoint that types it)',
    login_title: 'Log in to see your pass',
    login_sso: 'Log in',
    login_demo: 'Demo: choose a synthetic citizen to log in as.',
    login_none: 'Logging in needs a network connection.',
    checkpoint: 'Checkpoint staff: open the verifier',
    time_now: 'Time now',
    colour_green: 'GREEN',
    colour_yellow: 'YELLOW',
    colour_red: 'RED',
    band_label: '{0}',
    expired_word: 'EXPIRED',
    expired: 'This pass expired {0}. Connect to the network to get a new one.',
    qr_label: 'QR code of your {0} pass for {1}, valid until {2}',
    demo_login_as: 'Log in as {0} ({1})',
    updated: 'Pass updated at {0}: {1}, valid until {2}.',
    checked: 'Checked at {0}: this is your current pass.',
    offline: 'No network: showing the pass saved at {0}. It works offline until it expires.',
    busy: 'The service is busy: retrying in {0} s. Your pass still works.',
    login_again: 'Your login expired: log in again to get new passes. The pass below still works until it expires.',
    unknown_subject: 'No health pass is held for this login. Ask your health authority to register you.',
    not_ready: 'Your pass is being made: trying again shortly.',
    logging_in: 'Logging in…',
    login_failed: 'Could not log in: {0}',
    logged_out: 'Logged out. The pass was removed from this phone.',
  },
  zh: {
    title: '健康通行码',
    lang_button: 'English',
    demo_banner: '演示：开发密钥与虚构人员，绝非真实通行码。',
    page_error: '页面出错了。请刷新页面：通行码仍保存在本机。',
    name: '姓名',
    id_number: '证件号',
    valid_until: '有效期至',
    vaccine: '疫苗',
    test: '核酸',
    doses: '{0} 剂',
    one_dose: '1 剂',
    last_dose: '{0}，末次 {1}',
    negative: '阴性',
    positive: '阳性',
    test_ago: '{0}，{1}前',
    no_test: '通行码上无记录',
    minutes: '{0} 分钟',
    hours: '{0} 小时',
    days: '{0} 天',
    refresh: '立即刷新',
    logout: '退出登录',
    as_text: '通行码文本（供需手工输入的检查点使用）',
    login_title: '登录查看您的通行码',
    login_sso: '登录',
    login_demo: '演示：选择一位虚构居民登录。',
    login_none: '登录需要网络连接。',
    checkpoint: '检查点工作人员：打开核验页面',
    time_now: '当前时间',
    colour_green: '绿码',
    colour_yellow: '黄码',
    colour_red: '红码',
    band_label: '{0}',
    expired_word: '已过期',
    expired: '此通行码已于{0}过期。请联网获取新码。',
    qr_label: '{1}的{0}二维码，有效期至{2}',
    demo_login_as: '以{0}（{1}）登录',
    updated: '通行码已于{0}更新：{1}，有效期至{2}。',
    checked: '已于{0}核对：这是您当前的通行码。',
    offline: '无网络：显示{0}保存的通行码。在过期前离线可用。',
    busy: '服务繁忙：{0} 秒后重试。您的通行码仍然有效。',
    login_again: '登录已过期：请重新登录以获取新码。下方通行码在过期前仍然有效。',
    unknown_subject: '此账号没有健康通行码。请联系卫生健康部门登记。',
    not_ready: '您的通行码正在生成，稍后自动重试。',
    logging_in: '正在登录…',
    login_failed: '登录失败：{0}',
    logged_out: '已退出。通行码已从本机删除。',
  },
};

const KEY = 'sealpass.lang';

export function language() {
  const saved = localStorage.getItem(KEY);
  if (saved === 'en' || saved === 'zh') return saved;
  return (navigator.language || 'en').toLowerCase().startsWith('zh') ? 'zh' : 'en';
}

export function setLanguage(lang) {
  localStorage.setItem(KEY, lang);
}

/** The message `key` in the current language, `{0}`… filled in. */
export function t(key, ...args) {
  const table = MESSAGES[language()];
  const text = table[key] ?? MESSAGES.en[key] ?? key;
  return text.replace(/\{(\d)\}/g, (_, i) => String(args[Number(i)] ?? ''));
}

/** The locale for dates and times. */
export function locale() {
  return language() === 'zh' ? 'zh-CN' : 'en-GB';
}
