/* Work-group sum over dimension 0; every work-item gets the total. buf holds LSIZE(0) floats and
   LSIZE(0) is a power of two. All work-items of the group must call it (it has barriers). */
FN float group_sum(LPTR float* buf, float v)
{
    const int l = LID(0);
    buf[l] = v;
    BARRIER();
    for (int s = LSIZE(0) / 2; s > 0; s >>= 1)
    {
        if (l < s) buf[l] += buf[l + s];
        BARRIER();
    }
    const float r = buf[0];
    BARRIER();
    return r;
}
